"""Does the rule card say where a rule comes from: policy document and section, or a company addition?"""

from wechat_training.content.schema import Rule
from wechat_training.learning.widgets.markup import rule_card

RULE = Rule.model_validate(
    {
        "id": "GRP-008",
        "area": "group_chats",
        "title": {"zh": "群昵称格式", "en": "Group nickname format"},
        "text": {"zh": "群昵称用部门加姓名。", "en": "Use department and name as the group nickname."},
        "why": {"zh": "便于识别。", "en": "So people know who speaks."},
        "severity": "minor",
        "source": [
            {
                "file": "002_0123456789abcdef.txt",
                "document": "微信群管理办法",
                "section": "第十五条",
                "conflicts": [
                    {
                        "file": "000_0cd102e73d5ed378.txt",
                        "section": "五、群管理",
                        "reason": {
                            "zh": "另一制度要求别的格式；我们按本办法。",
                            "en": "Another policy asks otherwise; we follow this one.",
                        },
                    }
                ],
            },
            {"kind": "company", "clause": {"zh": "外部群也适用。", "en": "External groups too."}},
        ],
        "version": 1,
    }
)


def test_a_citation_shows_its_document_title_and_section_not_the_file_name():
    card = rule_card(RULE, "zh")
    assert '<li class="wt-citation">《微信群管理办法》 第十五条' in card
    assert "002_0123456789abcdef.txt" not in card


def test_a_company_addition_is_labelled_as_such_with_its_clause():
    assert '<li class="wt-company"><strong>公司补充规定:</strong> 外部群也适用。</li>' in rule_card(RULE, "zh")
    assert '<li class="wt-company"><strong>Company addition:</strong> External groups too.</li>' in rule_card(
        RULE, "en"
    )


def test_a_conflict_between_policies_is_a_short_note():
    card = rule_card(RULE, "en")
    assert "<strong>Where policies differ:</strong> Another policy asks otherwise; we follow this one." in card
