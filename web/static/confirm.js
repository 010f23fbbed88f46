// A link that opens a confirmation modal (web/templates/_confirm.html) keeps its href to the
// confirmation page, for a browser without JavaScript or before the DSFR's script has taken
// the link in hand (it marks it data-fr-js-modal-button); once it has, the modal opens and
// the link is not followed.
document.addEventListener('click', (event) => {
  const link = event.target.closest('a[href][aria-controls][data-fr-opened]');
  if (link && link.hasAttribute('data-fr-js-modal-button')) event.preventDefault();
});
