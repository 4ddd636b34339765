"""A forked learner kernel reads its command line as traitlets would, without argparse."""

import pytest
from ipykernel.kernelapp import IPKernelApp

from wechat_training.learning.forked_kernels import command_line_settings, kernel_app_class

COMMAND_LINES = [
    # What Jupyter writes for a kernel, and what the template adds (forked_kernels._run_kernel).
    ["-f", "/tmp/kernel-1.json", "--IPKernelApp.parent_handle=12", "--HistoryManager.enabled=False"],
    ["-f", "/tmp/kernel-2.json"],
    # Forms the direct reading leaves to traitlets.
    ["--Session.key=abc", "-f", "/tmp/kernel-3.json"],
    ["--debug", "-f", "/tmp/kernel-4.json"],
    ["--IPKernelApp.exec_lines=a=1", "--IPKernelApp.exec_lines=b=2"],
    ["-f"],
]


def parsed(app_class: type, argv: list[str]):
    """The command-line config an app reads, with its own class named IPKernelApp (traitlets
    files an alias under the most derived class); or the exception it raises."""
    app = app_class()
    try:
        app.parse_command_line(argv)
    except (SystemExit, Exception) as exc:  # noqa: BLE001 - the two must fail alike
        return type(exc)
    own = {cls.__name__ for cls in app_class.mro()}
    return {
        ("IPKernelApp" if section in own else section, trait): (value, type(value))
        for section in app.cli_config
        for trait, value in app.cli_config[section].items()
    }, app.extra_args


@pytest.mark.parametrize("argv", COMMAND_LINES)
def test_the_kernel_command_line_gives_the_config_traitlets_gives(argv):
    assert parsed(kernel_app_class(), argv) == parsed(IPKernelApp, argv)


def test_only_plain_command_lines_are_read_directly():
    assert command_line_settings(["-f", "k.json", "--A.b=c=d"]) == [
        ("IPKernelApp", "connection_file", "k.json"),
        ("A", "b", "c=d"),
    ]
    for argv in (["--debug"], ["-f"], ["notebook.py"], ["--A.b=1", "--A.b=2"], ["--A.b.c=1"], ["--A b"]):
        assert command_line_settings(argv) is None, argv
