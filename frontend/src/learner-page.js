// The script of a learner page (the `wechat` Voila template): it connects to the page's
// kernel and shows the page's widgets, and nothing else.
//
// Voila's own front end starts a JupyterLab application first (~4.7 MB of script and
// styles in 88 files: MathJax, CodeMirror, the notebook and theme plugins) and only then
// asks the kernel for the widgets. On one learner's page that kept the renderer's main
// thread busy ~1.05 s of a 1.25 s first paint (a Chromium trace; benchmarks/page.py). A
// learner page holds ipywidgets and nothing a notebook viewer needs, so this is
// ipywidgets' own manager on a @jupyterlab/services kernel connection, ~1 MB in one file.

import { PageConfig } from '@jupyterlab/coreutils';
import { CommsOverSubshells } from '@jupyterlab/services/lib/kernel/comm';
import { KernelConnection } from '@jupyterlab/services/lib/kernel/default';
import { ServerConnection } from '@jupyterlab/services/lib/serverconnection';
import * as base from '@jupyter-widgets/base';
import * as controls from '@jupyter-widgets/controls';
import { ManagerBase } from '@jupyter-widgets/base-manager';
import { Widget } from '@lumino/widgets';
import '@lumino/widgets/style/widget.css';
import '@jupyter-widgets/base/css/index.css';
import '@jupyter-widgets/controls/css/widgets-base.css';
import './page.css';

const OUTPUT_SCRIPT = 'script[type="application/vnd.voila.cell-output+json"]';
const WIDGET_VIEW = 'application/vnd.jupyter.widget-view+json';
// The widget model modules this page can show, with the model version each one speaks.
const MODULES = {
  '@jupyter-widgets/base': { module: base, version: base.JUPYTER_WIDGETS_VERSION },
  '@jupyter-widgets/controls': { module: controls, version: controls.JUPYTER_CONTROLS_VERSION },
};
const FAILED = '页面加载失败，请刷新页面。The page failed to load: please reload it.';

class PageWidgetManager extends ManagerBase {
  constructor(kernel) {
    super();
    this.kernel = kernel;
    kernel.registerCommTarget(this.comm_target_name, (comm, msg) =>
      this.handle_comm_open(new base.shims.services.Comm(comm), msg)
    );
  }

  async loadClass(className, moduleName, moduleVersion) {
    const known = MODULES[moduleName];
    const major = (version) => String(version).split('.')[0];
    if (!known || !(className in known.module)) {
      throw new Error(`the learner page has no widget ${moduleName} ${className}`);
    }
    if (major(moduleVersion) !== major(known.version)) {
      throw new Error(`${moduleName} ${moduleVersion} is asked for; the learner page has ${known.version}`);
    }
    return known.module[className];
  }

  async _create_comm(targetName, modelId, data, metadata, buffers) {
    const comm = this.kernel.createComm(targetName, modelId);
    if (data || metadata) {
      comm.open(data, metadata, buffers);
    }
    return new base.shims.services.Comm(comm);
  }

  async _get_comm_info() {
    const reply = await this.kernel.requestCommInfo({ target_name: this.comm_target_name });
    return reply.content.status === 'ok' ? reply.content.comms : {};
  }
}

function showFailure(detail) {
  const notice = document.createElement('div');
  notice.className = 'wt-page-notice';
  notice.setAttribute('role', 'alert');
  notice.textContent = FAILED;
  const why = document.createElement('pre');
  why.textContent = detail;
  notice.appendChild(why);
  document.body.prepend(notice);
}

// Learner notebooks display one widget per cell; anything else (a bare text or HTML
// output) is shown as it came, without a renderer registry for it.
function renderOther(output, host) {
  const html = output.data?.['text/html'];
  if (html !== undefined) {
    host.innerHTML = Array.isArray(html) ? html.join('') : html;
    return;
  }
  const pre = document.createElement('pre');
  const text = output.data?.['text/plain'] ?? '';
  pre.textContent = Array.isArray(text) ? text.join('') : text;
  host.appendChild(pre);
}

async function renderOutput(manager, script) {
  const output = JSON.parse(script.textContent);
  const host = document.createElement('div');
  host.className = 'jp-OutputArea-output';
  script.replaceWith(host);
  const view = output.data?.[WIDGET_VIEW];
  if (!view) {
    renderOther(output, host);
    return;
  }
  const model = await manager.get_model(view.model_id);
  const widgetView = await manager.create_view(model);
  Widget.attach(widgetView.luminoWidget, host);
}

function shutDownOnLeave(kernel, baseUrl) {
  // As Voila's page does: the server's shutdown handler frees the kernel at once instead
  // of leaving it to the culler. It asks no XSRF token (learning/server.py,
  // BeaconShutdownHandler), so none is sent.
  window.addEventListener('beforeunload', () => {
    navigator.sendBeacon(`${baseUrl}voila/api/shutdown/${kernel.id}`);
    kernel.dispose();
  });
}

async function main() {
  const baseUrl = PageConfig.getBaseUrl();
  const kernel = new KernelConnection({
    model: { id: PageConfig.getOption('kernelId'), name: 'python3' },
    serverSettings: ServerConnection.makeSettings({ baseUrl }),
    handleComms: true,
    // The widgets' callbacks run on the kernel's main shell, as under Voila's own front end
    // (whose older @jupyterlab/services knows no subshells), not on a thread of their own.
    commsOverSubshells: CommsOverSubshells.Disabled,
  });
  shutDownOnLeave(kernel, baseUrl);
  const manager = new PageWidgetManager(kernel);
  // One request for every widget's state (ipywidgets 8's control comm), as Voila does.
  await manager._loadFromKernel();
  await Promise.all([...document.querySelectorAll(OUTPUT_SCRIPT)].map((script) => renderOutput(manager, script)));
  document.body.dataset.widgetsShown = 'true';
}

main().catch((error) => {
  console.error('learner page:', error);
  showFailure(String(error?.message ?? error));
});
