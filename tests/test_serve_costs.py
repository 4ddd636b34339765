"""What `serve` does once instead of per page or per kernel gives the same results."""

import jinja2
import pytest
from ipykernel.kernelapp import IPKernelApp

from wechat_training.learning.forked_kernels import kernel_config, take_config
from wechat_training.learning.server import kernel_manager_class, shared_bytecode_cache


@pytest.mark.parametrize(
    "argv",
    [
        ["-f", "/run/kernel-1.json"],
        ["-f", "/run/kernel-1.json", "--IPKernelApp.parent_handle=41", "--HistoryManager.enabled=False"],
        ["--Session.signature_scheme=hmac-sha512", "-f", "/run/k.json", "--IPKernel.debug_just_my_code=True"],
    ],
)
def test_kernel_command_line_read_without_argparse_configures_as_traitlets_does(argv):
    parsed, read = IPKernelApp(), IPKernelApp()
    parsed.parse_command_line(argv)
    take_config(read, argv, kernel_config(argv))
    assert read.connection_file == parsed.connection_file
    assert read.parent_handle == parsed.parent_handle
    # Ours leaves every value a string for its trait to convert; traitlets converts
    # the application's own at once: written out, they are the same settings.
    assert settings(read.config) == settings(parsed.config)


def settings(config) -> dict[str, str]:
    return {f"{section}.{trait}": str(value) for section, traits in config.items() for trait, value in traits.items()}


@pytest.mark.parametrize("argv", [["--debug"], ["--ip=10.0.0.1"], ["-f"], ["-f", "k.json", "extra"], ["--=1"]])
def test_other_kernel_command_lines_go_to_traitlets(argv):
    assert kernel_config(argv) is None


def test_environments_share_compiled_templates_and_recompile_an_edited_one(monkeypatch):
    sources = {"page.html": "Hello {{ name }}"}
    compiled = []
    compile_source = jinja2.Environment.compile

    def counting_compile(self, source, *args, **kwargs):
        compiled.append(source)
        return compile_source(self, source, *args, **kwargs)

    monkeypatch.setattr(jinja2.Environment, "compile", counting_compile)

    def render(name):
        environment = jinja2.Environment(loader=jinja2.DictLoader(sources), bytecode_cache=shared_bytecode_cache())
        return environment.get_template("page.html").render(name=name)

    assert render("Li Lei") == "Hello Li Lei"
    assert render("Han Meimei") == "Hello Han Meimei"
    assert len(compiled) == 1  # the second environment ran the first one's code
    sources["page.html"] = "Goodbye {{ name }}"
    assert render("Li Lei") == "Goodbye Li Lei"
    assert len(compiled) == 2


def test_kernel_managers_share_one_event_logger_with_the_kernel_action_schema():
    manager = kernel_manager_class()()
    first = manager.kernel_manager_factory(parent=manager)
    second = manager.kernel_manager_factory(parent=manager)
    assert first.event_logger is second.event_logger
    assert "https://events.jupyter.org/jupyter_server/kernel_actions/v1" in first.event_logger.schemas.schema_ids
