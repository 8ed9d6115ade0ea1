// Makes a large photo smaller on the student's device before it is sent. A phone camera's
// 12-megapixel photo (3-5 MB) becomes at most the size the server keeps anyway (1600 px, a few
// hundred KB): thirty students uploading at once no longer fill the school's network, and the
// server decodes a tenth of the data. Where the photo was taken and with what camera stays on
// the device. When the browser cannot read the file (HEIC outside Safari) or anything goes
// wrong, the original is sent: the server makes the same checks and the same reduction.
(function () {
  const READABLE = /^image\/(jpeg|png|webp)$/;

  async function shrink(file, maxSide) {
    const bitmap = await createImageBitmap(file, { imageOrientation: "from-image" }); // upright, as shown
    const scale = maxSide / Math.max(bitmap.width, bitmap.height);
    if (scale >= 1) {
      bitmap.close();
      return null; // small enough: its own pixels go
    }
    const canvas = document.createElement("canvas");
    canvas.width = Math.round(bitmap.width * scale);
    canvas.height = Math.round(bitmap.height * scale);
    const ctx = canvas.getContext("2d");
    ctx.fillStyle = "#fff"; // see-through parts on white, as the server does
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.imageSmoothingQuality = "high";
    ctx.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    bitmap.close();
    const blob = await new Promise(function (resolve) {
      canvas.toBlob(resolve, "image/jpeg", 0.9);
    });
    return blob ? new File([blob], file.name.replace(/\.[^.]*$/, "") + ".jpg", { type: "image/jpeg" }) : null;
  }

  for (const input of document.querySelectorAll("input[type=file][data-store-max-side]")) {
    const form = input.form;
    const maxSide = Number(input.dataset.storeMaxSide);
    if (!form || !maxSide || typeof createImageBitmap !== "function" || typeof DataTransfer !== "function") {
      continue;
    }
    let state = "idle"; // "shrinking" while a photo is made smaller, "ready" to send
    form.addEventListener("submit", async function (event) {
      if (state === "ready") {
        state = "idle";
        return; // the photo is ready: the form goes as usual
      }
      const file = input.files && input.files[0];
      if (!file || !READABLE.test(file.type)) {
        return;
      }
      event.preventDefault();
      if (state === "shrinking") {
        return; // a second press while the first is being prepared
      }
      state = "shrinking";
      try {
        const smaller = await shrink(file, maxSide);
        if (smaller && smaller.size < file.size) {
          const files = new DataTransfer();
          files.items.add(smaller);
          input.files = files.files;
        }
      } catch (error) {
        // Sent as it is: the server can read more formats than the browser.
      }
      state = "ready";
      form.requestSubmit(event.submitter || undefined);
    });
  }
})();
