// Card payment with Stripe.js. Card details go from Stripe's own fields to Stripe; this script
// sends our server only the resulting token id. 3-D Secure is completed by Stripe.js.
(function () {
  "use strict";
  const form = document.getElementById("payment-form");
  if (!form) { return; }
  const options = form.dataset.stripeAccount ? { stripeAccount: form.dataset.stripeAccount } : {};
  const stripe = Stripe(form.dataset.publishableKey, options);
  const card = stripe.elements().create("card", { hidePostalCode: true });
  card.mount("#card-element");
  // localstripe's fake fields need names for assistive technology; real Stripe labels its own.
  document.querySelectorAll("#card-element input").forEach(function (input) {
    input.setAttribute("aria-label", input.getAttribute("placeholder") || "card");
  });
  const button = document.getElementById("pay-button");
  const summary = document.getElementById("payment-error-summary");
  const message = document.getElementById("payment-error");
  const csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;

  // Whether the person has typed in Stripe's fields yet, and whether Stripe says they are
  // complete (real Stripe.js sends both on "change"; localstripe's fields send neither).
  let touched = false;
  let complete = null;
  card.on("change", function (event) {
    touched = true;
    if (event && typeof event.complete === "boolean") {
      complete = event.empty ? false : event.complete;
    }
  });

  function showError(text) {
    message.textContent = text;
    summary.hidden = false;
    document.getElementById("card-group").classList.add("govuk-form-group--error");
    summary.focus();
    button.disabled = false;
  }

  // Our own words for what Stripe.js found wrong with the fields, never Stripe's English text
  // (the page may be in Welsh).
  function fieldMessage(error) {
    const code = (error && error.code) || "";
    if (/number/.test(code)) { return form.dataset.messageNumber; }
    if (/expiry/.test(code)) { return form.dataset.messageExpiry; }
    if (/cvc/.test(code)) { return form.dataset.messageCvc; }
    return form.dataset.messageIncomplete;
  }

  async function pay() {
    if (!touched || complete === false) {
      showError(form.dataset.messageIncomplete);
      return;
    }
    const tokenResult = await stripe.createToken(card);
    if (tokenResult.error || !tokenResult.token) {
      showError(fieldMessage(tokenResult.error));
      return;
    }
    const response = await fetch(form.dataset.cardUrl, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify({ token: tokenResult.token.id }),
      credentials: "same-origin",
    });
    const body = await response.json().catch(function () { return {}; });
    if (body.status === "requires_action") {
      const result = await stripe.confirmCardPayment(body.client_secret);
      if (result.error) {
        showError(form.dataset.messageFailed);
        return;
      }
      window.location.assign(body["return"]);
      return;
    }
    if (body.redirect) {
      window.location.assign(body.redirect);
      return;
    }
    showError(body.message || form.dataset.messageFailed);
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    button.disabled = true;
    // Whatever goes wrong (Stripe.js unreachable, a network error), the person gets a message
    // and a button that works again.
    pay().catch(function () { showError(form.dataset.messageFailed); });
  });
}());
