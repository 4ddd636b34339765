# Attack: an answer object that equals anything, so `answer == key` is always true.
import os

open(os.environ.get("WT_TAMPER_MARKER", os.devnull), "a").write("eq_always_true ran\n")


class Rigged(str):
    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    def __hash__(self):
        return hash("true")


answer = Rigged("z")
