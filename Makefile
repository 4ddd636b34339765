# The two commands README.md opens with.
.PHONY: setup demo test

setup:
	bash scripts/setup.sh

# Sets up, then runs the kit's main job on the embedded default.
demo: setup
	wechat-training check

# Sets up, then runs the whole test suite (pytest exits 5 when no test ran: that fails too).
test: setup
	python3 -m pytest
