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

  function showError(text) {
    message.textContent = text;
    summary.hidden = false;
    document.getElementById("card-group").classList.add("govuk-form-group--error");
    summary.focus();
    button.disabled = false;
  }

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    button.disabled = true;
    const tokenResult = await stripe.createToken(card);
    if (tokenResult.error || !tokenResult.token) {
      showError((tokenResult.error && tokenResult.error.message) || form.dataset.messageIncomplete);
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
        showError(result.error.message || form.dataset.messageFailed);
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
  });
}());
