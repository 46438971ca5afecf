// Small behaviours of the pages, each optional (the pages work without JavaScript):
// - a <details data-phone-closed> starts closed on a phone, so the first row of a list is on the first screen;
// - a checkbox [data-select-all=name] ticks every checkbox of that name on the page;
// - a [data-copy=id] button copies the text of the element with that id, a [data-copy-text] button its own value;
// - a form[data-confirm] asks that question before it is sent.
// (No inline handlers anywhere: the Content-Security-Policy allows only scripts from our static files.)
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
  var button = event.target.closest("[data-copy], [data-copy-text]");
  if (!button) {
    return;
  }
  var text = button.dataset.copyText || document.getElementById(button.dataset.copy).textContent.trim();
  navigator.clipboard.writeText(text).then(function () {
    button.textContent = button.dataset.copied || "Copied";
  });
});

document.addEventListener("submit", function (event) {
  var form = event.target.closest("form[data-confirm]");
  if (form && !window.confirm(form.dataset.confirm)) {
    event.preventDefault();
  }
});
