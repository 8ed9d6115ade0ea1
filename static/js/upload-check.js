// Says at once when a chosen photo is over the size limit, instead of
// uploading it only for the server to refuse it (the server checks too).
(function () {
  for (const input of document.querySelectorAll("input[type=file][data-max-bytes]")) {
    const max = Number(input.dataset.maxBytes);
    const note = document.createElement("small");
    note.className = "error";
    note.setAttribute("aria-live", "polite");
    input.after(note);
    input.addEventListener("change", function () {
      const file = input.files && input.files[0];
      const tooLarge = file && file.size > max;
      const size = Math.round(max / 1048576).toLocaleString(document.documentElement.lang || undefined);
      const message = tooLarge
        ? interpolate(gettext("This file is larger than %(size)s MB. Please choose a smaller photo."), { size }, true)
        : "";
      input.setCustomValidity(message);
      note.textContent = message;
    });
  }
})();
