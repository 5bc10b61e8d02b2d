// Sends the page's form at once (response_mode=form_post); without
// JavaScript, the form's button does the same.
document.forms[0].submit();
