/* The book's own script, served from _static/ (html_js_files in _config.yml).

   Search results quote a snippet of each page's text. Sphinx takes it from
   the page's HTML, where maths is still TeX (MathJax typesets it only in the
   page itself), so a snippet would read "\(\bar h_t = W_{hh}^\top \delta\)".
   Before Sphinx extracts the text, each maths element is replaced by a plain
   reading of its TeX: Greek letters and common symbols as characters, other
   commands and braces dropped. */
(function () {
  "use strict";
  const SYMBOLS = {
    alpha: "α", beta: "β", gamma: "γ", delta: "δ", epsilon: "ε", eta: "η", theta: "θ",
    lambda: "λ", mu: "μ", rho: "ρ", sigma: "σ", tau: "τ", phi: "φ", psi: "ψ", omega: "ω",
    Delta: "Δ", Lambda: "Λ", Sigma: "Σ", Phi: "Φ", Omega: "Ω", partial: "∂", nabla: "∇",
    sum: "Σ", prod: "Π", odot: "⊙", otimes: "⊗", times: "×", cdot: "·", cdots: "…",
    dots: "…", ldots: "…", le: "≤", leq: "≤", ge: "≥", geq: "≥", ne: "≠", neq: "≠",
    approx: "≈", to: "→", infty: "∞", top: "ᵀ", star: "⋆", in: "∈", ell: "ℓ",
  };
  function texToText(tex) {
    return tex
      .replace(/^\\\(|\\\)$|^\\\[|\\\]$|^\$\$?|\$\$?$/g, "")
      .replace(/\\(begin|end)\{[^}]*\}/g, " ")
      .replace(/\\([A-Za-z]+)/g, (m, name) => (name in SYMBOLS ? SYMBOLS[name] : ""))
      .replace(/\\[,;:!]|&|\\\\/g, " ")
      .replace(/[{}]/g, "")
      .replace(/\s+/g, " ")
      .trim();
  }
  document.addEventListener("DOMContentLoaded", function () {
    if (typeof Search === "undefined" || typeof Search.htmlToText !== "function") return;
    const htmlToText = Search.htmlToText;
    Search.htmlToText = function (htmlString, anchor) {
      const doc = new DOMParser().parseFromString(htmlString, "text/html");
      doc.querySelectorAll(".math").forEach(function (el) {
        el.textContent = " " + texToText(el.textContent.trim()) + " ";
      });
      return htmlToText(doc.documentElement.outerHTML, anchor);
    };
  });
})();

/* Every dropdown's button (solutions, hidden outputs) is named "Toggle hidden
   content" by sphinx-togglebutton: a screen reader cannot tell one solution
   from the next. Name each after the title it sits in. */
window.addEventListener("load", function () {
  "use strict";
  document.querySelectorAll(".admonition-title .toggle-button").forEach(function (button) {
    const title = button.closest(".admonition-title");
    const text = title ? title.textContent.replace(/\s+/g, " ").trim() : "";
    if (text) button.setAttribute("aria-label", "Show or hide: " + text);
  });
});
