// Messages to donors (outreach.forms.MessageForm): once a network is chosen, offer only its
// segments and campaigns. The server checks the same on saving.
document.addEventListener("DOMContentLoaded", () => {
  const network = document.getElementById("id_network");
  if (!network) return;
  const selects = document.querySelectorAll("select[data-network-options]");
  const offerOnlyTheChosenNetworks = () => {
    selects.forEach((select) => {
      select.querySelectorAll("option[data-network]").forEach((option) => {
        const another = network.value !== "" && option.dataset.network !== network.value;
        option.hidden = another;
        option.disabled = another;
        if (another && option.selected) select.value = "";
      });
    });
  };
  network.addEventListener("change", offerOnlyTheChosenNetworks);
  offerOnlyTheChosenNetworks();
});
