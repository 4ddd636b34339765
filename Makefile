# The two commands README.md opens with.
.PHONY: setup demo test

# The demo keeps its attempts and gradebook outside the tree (personal data never goes into git).
DEMO_COURSE_DIR ?= $(or $(TMPDIR),/tmp)/wechat-training-demo

setup:
	bash scripts/setup.sh

# Sets up, checks the content, then serves the learner portal for a fictional
# demo employee on http://127.0.0.1:8866/ (SQLite gradebook, local Voila). Ctrl-C stops it.
demo: setup
	wechat-training check
	wechat-training serve --course-dir "$(DEMO_COURSE_DIR)"

# Sets up, then runs the whole test suite (pytest exits 5 when no test ran: that fails too).
test: setup
	python3 -m pytest
