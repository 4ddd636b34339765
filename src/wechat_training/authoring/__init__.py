"""Trainer tools on top of the content: skeletons for `new`, bank interchange
(Moodle XML, GIFT, Excel) and `diff` between two versions of the content."""
