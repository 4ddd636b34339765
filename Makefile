# The two commands README.md opens with.
.PHONY: setup demo test hub

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

# Many employees (issue 13): sets up, imports the fictional demo roster into the demo
# gradebook, then starts JupyterHub on http://127.0.0.1:8000/ (log in as E000101 or
# E000102, HR as H000001, with HUB_DEMO_PASSWORD). The shared password is DEMO ONLY:
# see deploy/README.md for a company's SSO. Ctrl-C stops it.
HUB_DEMO_PASSWORD ?= demo-only-password
hub: setup
	wechat-training roster import deploy/jupyterhub/demo_roster.csv --course-dir "$(DEMO_COURSE_DIR)"
	wechat-training hub --course-dir "$(DEMO_COURSE_DIR)" --hr H000001 --trainer T000001 --demo-password "$(HUB_DEMO_PASSWORD)"
