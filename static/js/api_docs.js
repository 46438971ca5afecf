// Accessibility fixes to Swagger UI's own markup on /api/docs/ (issue 11; the colours are in css/api_docs.css).
// Swagger UI draws with React and its components take no option for these, so its elements are adjusted as they
// appear, attributes only (React keeps the elements it draws; it never rewrites an attribute it did not change):
// - the path of an operation is a deep link (<a href="#/tag/operation">) inside the button that opens the operation,
//   a link nested in a button (axe: nested-interactive): it loses its href, as Swagger UI draws it with deep linking
//   off. Deep links still work: opening an operation sets the address's #fragment, and such an address opens it;
// - a parameter of listed values is a <select> without a label (axe: select-name): it is named after its parameter,
//   and the request body's <textarea> (axe: label) after its section, "Request body";
// - an example or a curl command too long for its box scrolls, and a box that scrolls must be reachable by keyboard
//   (axe: scrollable-region-focusable): every such box is focusable;
// - in the Authorize dialog, the close button (an icon) has no name (axe: button-name): it is "Close", like the
//   dialog's other close button; and the buttons named otherwise than they read ("Authorize" named "Apply
//   credentials", axe: label-content-name-mismatch) are named by what they read.
(function () {
  function fix(root) {
    root.querySelectorAll(".opblock-summary-control a[href]").forEach(function (link) {
      link.removeAttribute("href");
    });
    root.querySelectorAll("tr[data-param-name] select:not([aria-label])").forEach(function (select) {
      var row = select.closest("tr[data-param-name]");
      select.setAttribute("aria-label", row.dataset.paramName + " (" + row.dataset.paramIn + ")");
    });
    root.querySelectorAll("textarea.body-param__text:not([aria-label])").forEach(function (textarea) {
      textarea.setAttribute("aria-label", "Request body");
    });
    root.querySelectorAll("pre.microlight:not([tabindex])").forEach(function (example) {
      example.setAttribute("tabindex", "0");
    });
    root.querySelectorAll(".dialog-ux .close-modal:not([aria-label])").forEach(function (button) {
      button.setAttribute("aria-label", "Close");
    });
    root.querySelectorAll(".dialog-ux .auth-btn-wrapper button[aria-label]").forEach(function (button) {
      var text = button.textContent.trim();
      if (text && button.getAttribute("aria-label").indexOf(text) === -1) {
        button.removeAttribute("aria-label");
      }
    });
  }

  var observer = new MutationObserver(function () {
    fix(document);
  });
  document.addEventListener("DOMContentLoaded", function () {
    fix(document);
    observer.observe(document.body, { childList: true, subtree: true, attributes: true, attributeFilter: ["href"] });
  });
})();
