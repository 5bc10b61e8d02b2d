// Re-enables "Send a new code" when the resend cooldown is over. The page
// works without it: the server disables the button and says how long to wait.
(function () {
  var button = document.getElementById("resend");
  if (!button || !button.dataset.cooldown) return;
  var left = parseInt(button.dataset.cooldown, 10);
  var wait = document.getElementById("resend-wait");
  // The page's language words the wait: its catalogue's forms for one
  // and for other counts, "#" standing for the number.
  var plural = window.Intl && Intl.PluralRules ? new Intl.PluralRules(document.documentElement.lang) : null;
  var say = function (n) {
    var form = plural && plural.select(n) === "one" ? button.dataset.waitOne : button.dataset.waitOther;
    return form ? form.replace("#", n) : "";
  };
  var tick = setInterval(function () {
    left -= 1;
    if (left > 0) {
      if (wait && say(left)) wait.textContent = say(left);
      return;
    }
    clearInterval(tick);
    button.disabled = false;
    if (wait) wait.remove();
  }, 1000);
})();
