// Small behaviours of the pages, each optional (the pages work without JavaScript):
// - a <details data-phone-closed> starts closed on a phone, so the first row of a list is on the first screen;
// - a checkbox [data-select-all=name] ticks every checkbox of that name on the page;
// - a [data-copy=id] button copies the text of the element with that id.
document.addEventListener("DOMContentLoaded", function () {
  if (window.matchMedia("(max-width: 800px)").matches) {
    document.querySelectorAll("details[data-phone-closed]").forEach(function (details) {
      details.open = false;
    });
  }
});

document.addEventListener("change", function (event) {
  var all = event.target.closest("[data-select-all]");
  if (!all) {
    return;
  }
  document.querySelectorAll('input[type=checkbox][name="' + all.dataset.selectAll + '"]').forEach(function (box) {
    box.checked = all.checked;
  });
});

document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-copy]");
  if (!button) {
    return;
  }
  var source = document.getElementById(button.dataset.copy);
  navigator.clipboard.writeText(source.textContent.trim()).then(function () {
    button.textContent = button.dataset.copied || "Copied";
  });
});
