// Django's admin, accessibility fixes to the controls its scripts draw (issue 11; the styles are in css/admin.css).
// They appear after the page has loaded (select2 on DOMContentLoaded, the filter boxes on load, both again for a row
// added to an inline), so they are adjusted as they appear, attributes only:
// - an autocomplete (select2) draws a combobox named by its current value only, nothing when empty
//   (axe: aria-input-field-name): it is named by the field's label, then its value;
// - a two-box selector (filter_horizontal) puts an aria-label on a plain <span>, where it is not allowed
//   (axe: aria-prohibited-attr): the span is an image (its icon), whose label names the filter box.
(function () {
  function labelOf(select) {
    var label = select.id && document.querySelector('label[for="' + select.id + '"]');
    if (label && !label.id) {
      label.id = select.id + "_label";
    }
    return label;
  }

  function fix(root) {
    root.querySelectorAll(".select2-selection__rendered[id^='select2-'][id$='-container']").forEach(function (value) {
      var combobox = value.closest("[role=combobox]");
      var select = document.getElementById(value.id.slice("select2-".length, -"-container".length));
      var label = select && labelOf(select);
      if (!combobox || !label || combobox.getAttribute("aria-labelledby").indexOf(label.id) !== -1) {
        return;
      }
      combobox.setAttribute("aria-labelledby", label.id + " " + value.id);
      value.setAttribute("aria-labelledby", label.id);
    });
    root.querySelectorAll(".search-label-icon[aria-label]:not([role])").forEach(function (icon) {
      icon.setAttribute("role", "img");
    });
  }

  var observer = new MutationObserver(function () {
    fix(document);
  });
  document.addEventListener("DOMContentLoaded", function () {
    fix(document);
    observer.observe(document.body, { childList: true, subtree: true });
  });
})();
