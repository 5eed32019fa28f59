/* Progressive enhancements: every page works without this file. */
(function () {
  'use strict';

  var script = document.currentScript;
  document.documentElement.classList.add('js');

  function setUpMenu() {
    var toggle = document.querySelector('.menu-toggle');
    var menu = toggle && document.getElementById(toggle.getAttribute('aria-controls'));
    if (!menu) {
      return;
    }
    toggle.hidden = false;

    function setOpen(open) {
      toggle.setAttribute('aria-expanded', open ? 'true' : 'false');
      menu.classList.toggle('is-open', open);
    }

    toggle.addEventListener('click', function () {
      setOpen(toggle.getAttribute('aria-expanded') !== 'true');
    });
    document.addEventListener('keydown', function (event) {
      if (event.key === 'Escape' && toggle.getAttribute('aria-expanded') === 'true') {
        setOpen(false);
        toggle.focus();
      }
    });
  }

  // On a narrow screen the filters start folded, unless one of them needs correcting.
  function setUpFilters() {
    var wide = window.matchMedia('(min-width: 64em)');
    document.querySelectorAll('details[data-collapse-narrow]').forEach(function (details) {
      if (!wide.matches && !details.querySelector('.field--error')) {
        details.open = false;
      }
      wide.addEventListener('change', function (event) {
        if (event.matches) {
          details.open = true;
        }
      });
    });
  }

  // A second click while the first submission is on its way would only repeat it.
  function setUpSubmitOnce() {
    document.querySelectorAll('form[data-once]').forEach(function (form) {
      form.addEventListener('submit', function () {
        form.querySelectorAll('button[type="submit"]').forEach(function (button) {
          button.setAttribute('aria-disabled', 'true');
          button.classList.add('is-busy');
        });
        form.addEventListener('submit', function (event) { event.preventDefault(); });
      }, { once: true });
    });
  }

  function registerServiceWorker() {
    var url = script && script.dataset.serviceWorker;
    if (url && 'serviceWorker' in navigator) {
      window.addEventListener('load', function () {
        navigator.serviceWorker.register(url, { scope: '/' }).catch(function () {
          // Offline support is a bonus; the shop works without it.
        });
      });
    }
  }

  function start() {
    setUpMenu();
    setUpFilters();
    setUpSubmitOnce();
  }

  registerServiceWorker();
  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
}());
