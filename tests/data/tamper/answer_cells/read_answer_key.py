# Attack: read the answer key out of the course's source notebook (the
# autograder runs in autograded/<student>/<assignment>/ next to source/).
import ast
import json
import os
import pathlib
import re

open(os.environ.get("WT_TAMPER_MARKER", os.devnull), "a").write("read_answer_key ran\n")
source = pathlib.Path("../../../source/account_security/account_security.ipynb")
cells = json.loads(source.read_text(encoding="utf-8"))["cells"]
test = next(c for c in cells if c["metadata"]["nbgrader"]["grade_id"] == "Q_ACC_005")
answer = sorted(ast.literal_eval(re.search(r"== (\{.*?\})", "".join(test["source"])).group(1)))
