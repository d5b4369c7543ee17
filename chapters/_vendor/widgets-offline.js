// Loaded between RequireJS and the widget manager on pages with widgets
// (nb_ipywidgets_js in _config.yml); copied to _static/ by the Makefile.
// Two fixes that let @jupyter-widgets/html-manager 1.0.6 work from the book
// itself, with no CDN, beside MathJax 3.
(function () {
  "use strict";
  // The widget manager's CSS loads its icon fonts from the address RequireJS
  // gives its module, by default relative to the page
  // (chapters/@jupyter-widgets/html-manager/dist/), which does not exist.
  // Map the module to the folder it is served from, _static/html-manager/.
  var here = new URL("html-manager/", document.currentScript.src).href;
  window.require.config({
    paths: { "@jupyter-widgets/html-manager/dist": here.replace(/\/$/, "") },
  });
  window.__jupyter_widgets_assets_path__ = here;

  // It typesets the LaTeX in widget labels with MathJax 2's
  // MathJax.Hub.Queue(["Typeset", MathJax.Hub, element]); the book loads
  // MathJax 3, which has no Hub. MathJax 3 (deferred) has started by
  // DOMContentLoaded and the widgets render on "load": map that one call.
  document.addEventListener("DOMContentLoaded", function () {
    var mj = window.MathJax;
    if (!mj || mj.Hub || !mj.startup) {
      return;
    }
    mj.Hub = {
      Queue: function (job) {
        var element = job[2];
        mj.startup.promise.then(function () {
          return mj.typesetPromise([element]);
        });
      },
    };
  });
})();
