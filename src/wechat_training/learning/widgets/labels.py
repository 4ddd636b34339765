"""Every fixed text of the learner pages, in simplified Chinese and English.

Content texts (rules, questions) carry their own zh/en; these are the words
around them. Chinese is the default language (issue 3).
"""

from __future__ import annotations

LANGUAGES = (("中文", "zh"), ("English", "en"))
DEFAULT_LANGUAGE = "zh"

_TEXTS: dict[str, tuple[str, str]] = {
    "language": ("语言", "Language"),
    "portal_title": ("微信合规培训", "WeChat compliance training"),
    "employee": ("员工", "Employee"),
    "module": ("模块", "Module"),
    "status": ("状态", "Status"),
    "score": ("最好成绩", "Best score"),
    "passed_on": ("通过日期", "Passed on"),
    "due": ("截止日期", "Due"),
    "no_due": ("无截止日期", "no due date"),
    "open": ("进入", "Open"),
    "certificate": ("下载证书", "Download certificate"),
    "optional": ("选修", "optional"),
    "not_started": ("未开始", "Not started"),
    "passed": ("已通过", "Passed"),
    "failed": ("未通过", "Not passed"),
    "overdue": ("已逾期", "Overdue"),
    "attempts": ("次尝试", "attempt(s)"),
    "nothing_due": ("目前没有需要完成的模块。", "No module is due for you now."),
    "back_to_portal": ("← 返回培训首页", "← Back to the training portal"),
    "section": ("章节", "Section"),
    "rules": ("规则", "Rules"),
    "scenarios": ("情景演练", "Scenarios"),
    "practice": ("练习", "Practice"),
    "quiz": ("正式测验", "Graded quiz"),
    "red_line": ("红线", "Red line"),
    "major": ("重要", "Major"),
    "minor": ("一般", "Minor"),
    "why": ("为什么", "Why"),
    "consequence": ("违反后果", "Consequence"),
    "rule": ("规则", "Rule"),
    "source": ("依据", "Source"),
    "company_addition": ("公司补充规定", "Company addition"),
    "policies_differ": ("制度之间的不同规定", "Where policies differ"),
    "your_answer": ("你的选择", "Your answer"),
    "check": ("查看结果", "Check answer"),
    "next": ("下一题", "Next"),
    "previous": ("上一题", "Previous"),
    "correct": ("回答正确。", "Correct."),
    "wrong": ("回答不正确。", "Not correct."),
    "right_answer": ("正确答案", "Right answer"),
    "practice_note": ("练习不计分，可以反复尝试。", "Practice never counts: try as often as you like."),
    "pick_first": ("请先选择一个答案。", "Pick an answer first."),
    "true": ("正确", "True"),
    "false": ("错误", "False"),
    "scenario_of": ("情景 {n} / {total}", "Scenario {n} of {total}"),
    "question_of": ("第 {n} 题 / 共 {total} 题", "Question {n} of {total}"),
    "no_scenarios": ("本模块没有练习用的情景题。", "This module has no practice scenarios."),
    "no_practice": ("本模块暂无练习题。", "This module has no practice questions yet."),
    "no_questions_yet": ("还没有题目考这一项。", "No question tests this yet."),
    "quiz_intro": (
        "共 {total} 题，需答对 {mark}% 的分数才能通过；红线题答错即不通过。提交前可以检查和修改答案。",
        "{total} questions; you pass with {mark}% of the points, and a wrong answer on a red-line question fails the module. You can review and change your answers before submitting.",
    ),
    "layout": ("答题方式", "Layout"),
    "one_by_one": ("逐题作答", "One question at a time"),
    "all_on_page": ("全部显示", "All on one page"),
    "start_quiz": ("开始测验", "Start the quiz"),
    "review": ("检查答案", "Review answers"),
    "review_title": ("提交前检查", "Review before submitting"),
    "unanswered": ("未作答", "not answered"),
    "unanswered_warning": (
        "还有 {count} 题未作答：{numbers}。未作答的题不得分。",
        "{count} question(s) not answered: {numbers}. They score no points.",
    ),
    "edit": ("修改第 {n} 题", "Change question {n}"),
    "submit": ("提交", "Submit"),
    "confirm_text": (
        "确认提交吗？提交后本次答案不能再修改。",
        "Submit now? Your answers for this attempt cannot be changed afterwards.",
    ),
    "confirm": ("确认提交", "Yes, submit"),
    "cancel": ("返回修改", "Go back"),
    "result_title": ("测验结果", "Your result"),
    "result_score": (
        "得分 {score} / {max_score}（{share}%），及格线 {mark}%。",
        "Score {score} / {max_score} ({share}%); pass mark {mark}%.",
    ),
    "result_passed": ("恭喜，你已通过本模块。", "Well done: you passed this module."),
    "result_failed": ("本次未通过。", "You did not pass this time."),
    "red_line_missed": ("答错了红线题：", "Red-line questions answered wrong:"),
    "revisit": ("建议复习的规则", "Rules to revisit"),
    "recorded": ("已记录本次提交（编号 {id}）。", "This attempt is recorded (id {id})."),
    "new_attempt": ("再做一次", "Take it again"),
    "error_title": ("页面无法打开", "This page cannot open"),
    "error_help": ("请把下面的信息发给培训负责人。", "Please send the message below to your training contact."),
    "me": ("我", "Me"),
}


def text(key: str, lang: str, **values: object) -> str:
    zh, en = _TEXTS[key]
    chosen = en if lang == "en" else zh
    return chosen.format(**values) if values else chosen


def keys() -> frozenset[str]:
    return frozenset(_TEXTS)
