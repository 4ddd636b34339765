// ipywidgets' ToggleButtons mark the chosen button only with the class `mod-active`
// (a darker grey): mirror it as aria-pressed, so a screen reader says which answer,
// section and language are chosen (issue 14). Installed once per page: linked at the end
// of the page by `serve`'s template, or shown as a widget output in a notebook.
(() => {
  if (window.wtChoiceState) return;
  window.wtChoiceState = true;
  const selector = ".wt-page .widget-toggle-button";
  const sync = () => {
    for (const button of document.querySelectorAll(selector)) {
      const pressed = button.classList.contains("mod-active") ? "true" : "false";
      if (button.getAttribute("aria-pressed") !== pressed) button.setAttribute("aria-pressed", pressed);
    }
  };
  new MutationObserver(sync).observe(document.body, {
    subtree: true,
    childList: true,
    attributes: true,
    attributeFilter: ["class"],
  });
  sync();
})();
