// Starts the vendored Redoc on the exchange's OpenAPI document (no inline script: CSP).
//
// Redoc's sidebar always draws its vendor's logo from its CDN, and no option turns that off;
// the page's policy would refuse the request. So the logo is given an empty picture of its
// own before it is made: the page asks nothing of another site, and nothing is refused.
const REDOC_CDN_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg";
const NO_PICTURE = "data:image/svg+xml,%3Csvg%20xmlns='http://www.w3.org/2000/svg'/%3E";

const setAttribute = Element.prototype.setAttribute;
Element.prototype.setAttribute = function (name, value) {
  const local = name === "src" && value === REDOC_CDN_LOGO ? NO_PICTURE : value;
  return setAttribute.call(this, name, local);
};
const imageSource = Object.getOwnPropertyDescriptor(HTMLImageElement.prototype, "src");
Object.defineProperty(HTMLImageElement.prototype, "src", {
  ...imageSource,
  set(value) { imageSource.set.call(this, value === REDOC_CDN_LOGO ? NO_PICTURE : value); },
});

window.addEventListener("DOMContentLoaded", () => {
  const root = document.getElementById("redoc");
  Redoc.init(root.dataset.openapi, {}, root);
});
