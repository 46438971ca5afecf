// The globals the theme's scripts read (base_url: base.js and the search; shortcuts: base.js), from this script
// element's data attributes: the pages hold no inline script, so they work under the app's Content-Security-Policy.
var base_url = document.currentScript.dataset.baseUrl,
  shortcuts = JSON.parse(document.currentScript.dataset.shortcuts);
