// MathJax 3, served by the site itself (docs/hooks/mathjax.py), typesets two kinds of math:
// pymdownx.arithmatex's spans (generic mode: \( \) inline, \[ \] display), and the notebooks'
// Markdown cells ($ $ and $$ $$, as in Jupyter). Everything else (code, prose with a dollar
// sign) is left alone: MathJax ignores every element but those of class "arithmatex" or "notebook-math".

// The class check applies to each element on the way down, so every element inside a notebook's
// Markdown cell is marked "notebook-math", except code.
function markNotebookMath() {
  document
    .querySelectorAll(".jp-RenderedMarkdown, .jp-RenderedMarkdown *:not(code, pre, pre *)")
    .forEach((element) => element.classList.add("notebook-math"));
}

window.MathJax = {
  tex: {
    inlineMath: [["\\(", "\\)"], ["$", "$"]],
    displayMath: [["\\[", "\\]"], ["$$", "$$"]],
    processEscapes: true,
    processEnvironments: true,
  },
  options: {
    ignoreHtmlClass: ".*|",
    processHtmlClass: "arithmatex|notebook-math",
  },
  startup: {
    pageReady: () => {
      markNotebookMath();
      return MathJax.startup.defaultPageReady();
    },
  },
};

// Material's instant navigation swaps pages without a reload: typeset each new page.
if (typeof document$ !== "undefined") {
  document$.subscribe(() => {
    if (window.MathJax && MathJax.startup && MathJax.typesetPromise) {
      markNotebookMath();
      MathJax.startup.output.clearCache();
      MathJax.typesetClear();
      MathJax.texReset();
      MathJax.typesetPromise();
    }
  });
}
