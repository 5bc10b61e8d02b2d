// Re-enables "Send a new code" when the resend cooldown is over. The page
// works without it: the server disables the button and says how long to wait.
(function () {
  var button = document.getElementById("resend");
  if (!button || !button.dataset.cooldown) return;
  var left = parseInt(button.dataset.cooldown, 10);
  var wait = document.getElementById("resend-wait");
  var tick = setInterval(function () {
    left -= 1;
    if (left > 0) {
      if (wait) wait.textContent = "You can ask for a new code in " + left + " seconds.";
      return;
    }
    clearInterval(tick);
    button.disabled = false;
    if (wait) wait.remove();
  }, 1000);
})();
