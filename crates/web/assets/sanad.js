// Sanad's own script: small conveniences on top of pages that work without it.
// Buttons and links with data-confirm ask before acting (a merge, an approval, a revocation).
document.addEventListener("click", function (event) {
  var el = event.target.closest ? event.target.closest("[data-confirm]") : null;
  if (el && !window.confirm(el.getAttribute("data-confirm"))) {
    event.preventDefault();
  }
});
// A file chosen in an upload field shows its name (the native control is hidden behind a label).
document.addEventListener("change", function (event) {
  var input = event.target;
  if (input.type === "file" && input.dataset.nameTarget) {
    var out = document.getElementById(input.dataset.nameTarget);
    if (out && input.files.length) { out.textContent = input.files[0].name; }
  }
});
