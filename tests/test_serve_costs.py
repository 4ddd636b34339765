"""What `serve` does once instead of per page or per kernel gives the same results."""

import jinja2

from wechat_training.learning.server import kernel_client_class, kernel_manager_class, shared_bytecode_cache


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


def test_a_page_client_opens_shell_and_iopub_only(tmp_path):
    from jupyter_client.manager import AsyncKernelManager

    manager = AsyncKernelManager(connection_file=str(tmp_path / "kernel.json"), client_factory=kernel_client_class())
    manager.write_connection_file()  # addresses to connect to; no kernel is needed for that
    client = manager.client()
    client.start_channels()
    try:
        assert client.shell_channel.is_alive() and client.iopub_channel.is_alive()
        # No heartbeat thread, stdin or control socket was made for the page.
        assert (client._hb_channel, client._stdin_channel, client._control_channel) == (None, None, None)
        assert not client.allow_stdin
    finally:
        client.stop_channels()
