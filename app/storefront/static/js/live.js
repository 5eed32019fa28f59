/* Live updates (app/live): the page follows its order statuses, stock levels, the cart
   badge and, for administrators, new orders, without reloading. Every page works without
   this file; it only ever writes text (textContent), never markup from an event. */
(function () {
  'use strict';

  var script = document.currentScript;
  if (!script || !window.EventSource || !window.URLSearchParams) {
    return;
  }
  var FIRST_DELAY_MS = 1000;
  var MAX_DELAY_MS = 60000;
  // A tab in the background gives its stream back after this; coming back, it resumes from
  // where it stopped (the server replays what it missed). Few tabs are visible at once, so
  // few streams are open, and HTTP/1.1's six connections per host are never all taken.
  var HIDDEN_GRACE_MS = 30000;
  var CANCELLABLE = { pending: true, paid: true };
  var source = null;
  var retryTimer = null;
  var hiddenTimer = null;
  var lastEventId = '';
  var delay = FIRST_DELAY_MS;
  var announcer = null;

  function topicsOfPage() {
    var query = new URLSearchParams();
    document.querySelectorAll('[data-live-product]').forEach(function (element) {
      query.append('product', element.getAttribute('data-live-product'));
    });
    if (document.querySelector('[data-live-admin="orders"]')) {
      query.set('admin', 'orders');
    }
    return query;
  }

  function streamUrl(query) {
    var params = new URLSearchParams(query);
    // A new EventSource cannot send Last-Event-ID itself: after a refusal (Redis down, a
    // limit) the position travels as a parameter. It is a stream position, not a secret.
    if (lastEventId) {
      params.set('cursor', lastEventId);
    } else {
      params.set('since', script.dataset.liveSince);
    }
    return script.dataset.liveUrl + '?' + params.toString();
  }

  function announce(text) {
    if (!announcer) {
      announcer = document.createElement('div');
      announcer.className = 'visually-hidden';
      announcer.setAttribute('aria-live', 'polite');
      announcer.setAttribute('role', 'status');
      announcer.setAttribute('data-testid', 'live-announcer');
      document.body.appendChild(announcer);
    }
    announcer.textContent = text;
  }

  function setBadge(element, status, label) {
    element.className = 'status status--' + status;
    element.textContent = label;
  }

  function onOrder(data) {
    var id = String(data.order_id);
    var changed = false;
    document.querySelectorAll('[data-live-order="' + id + '"] .status, ' +
                              'tr[data-order-id="' + id + '"] .status').forEach(function (badge) {
      if (badge.textContent !== data.label) {
        setBadge(badge, data.status, data.label);
        changed = true;
      }
    });
    if (document.querySelector('[data-live-order="' + id + '"]') && !CANCELLABLE[data.status]) {
      document.querySelectorAll('form.cancel-order').forEach(function (form) {
        form.hidden = true;
      });
    }
    if (changed) {
      announce('Order #' + id + ' is now ' + data.label + '.');
    }
  }

  function onStock(data) {
    document.querySelectorAll('[data-live-product="' + data.product_id + '"]').forEach(function (element) {
      element.className = 'stock stock--' + data.level;
      element.textContent = data.label;
    });
    var form = document.querySelector('form.add-to-cart');
    if (form && document.querySelector('[data-live-product="' + data.product_id + '"]')) {
      var quantity = form.querySelector('input[name="quantity"]');
      if (quantity) {
        quantity.max = String(Math.max(1, Math.min(data.stock, 99)));
      }
      form.hidden = data.stock <= 0;
    }
  }

  function setCartCount(count) {
    var badge = document.querySelector('[data-testid="cart-count"]');
    if (!badge) {
      return;
    }
    badge.textContent = String(count);
    var words = badge.nextElementSibling;
    if (words && words.classList.contains('visually-hidden')) {
      words.textContent = count === 1 ? ' item' : ' items';
    }
  }

  function onCart(data) {
    if (data.count !== null && data.count !== undefined) {
      setCartCount(data.count);
      return;
    }
    fetch(script.dataset.liveCartUrl, { credentials: 'same-origin', headers: { Accept: 'application/json' } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (body) {
        if (body) {
          setCartCount(body.count);
        }
      })
      .catch(function () { /* the next page load shows the count */ });
  }

  function cell(row, label, child) {
    var td = document.createElement(row.children.length ? 'td' : 'th');
    if (!row.children.length) {
      td.scope = 'row';
    }
    td.setAttribute('data-label', label);
    td.appendChild(child);
    row.appendChild(td);
  }

  function text(value) {
    return document.createTextNode(value);
  }

  // The order desk's first page, unfiltered or filtered on the new order's status.
  function onOrderPlaced(data) {
    var table = document.querySelector('[data-live-admin="orders"]');
    var query = new URLSearchParams(window.location.search);
    var page = query.get('page');
    var status = query.get('status');
    if (!table || (page && page !== '1') || (status && status !== data.status) ||
        table.querySelector('tr[data-order-id="' + data.order_id + '"]')) {
      return;
    }
    var body = table.tBodies[0];
    body.querySelectorAll('tr:not([data-order-id])').forEach(function (empty) {
      empty.remove();
    });
    var row = document.createElement('tr');
    row.setAttribute('data-order-id', String(data.order_id));
    row.className = 'is-new';
    var link = document.createElement('a');
    link.href = table.getAttribute('data-order-url').replace('/0', '/' + data.order_id);
    link.textContent = 'Order #' + data.order_id;
    cell(row, 'Order', link);
    cell(row, 'Customer', text(data.email));
    var placed = document.createElement('time');
    placed.dateTime = data.placed;
    placed.textContent = new Date(data.placed).toLocaleString();
    cell(row, 'Placed', placed);
    cell(row, 'Total', text(data.total));
    var badge = document.createElement('span');
    setBadge(badge, data.status, data.label);
    cell(row, 'Status', badge);
    body.insertBefore(row, body.firstChild);
    announce('New order #' + data.order_id + '.');
  }

  var HANDLERS = { order: onOrder, stock: onStock, cart: onCart, 'order-placed': onOrderPlaced };

  function listen(current, name) {
    current.addEventListener(name, function (event) {
      lastEventId = event.lastEventId || lastEventId;
      try {
        HANDLERS[name](JSON.parse(event.data));
      } catch (error) {
        // One malformed event must not stop the others.
      }
    });
  }

  function connect(query) {
    var current = new EventSource(streamUrl(query));
    source = current;
    Object.keys(HANDLERS).forEach(function (name) { listen(current, name); });
    current.addEventListener('open', function () {
      delay = FIRST_DELAY_MS;
    });
    current.addEventListener('error', function () {
      // CONNECTING: the browser reconnects by itself (with Last-Event-ID). CLOSED: the
      // server refused (503 Redis down or full, 429 too many tabs): back off and retry.
      if (current.readyState === EventSource.CLOSED && current === source) {
        var wait = delay / 2 + Math.random() * delay / 2;
        delay = Math.min(delay * 2, MAX_DELAY_MS);
        retryTimer = window.setTimeout(function () { connect(query); }, wait);
      }
    });
  }

  function disconnect() {
    window.clearTimeout(retryTimer);
    if (source) {
      source.close();  // frees the server's slot at once
      source = null;
    }
  }

  function start() {
    var query = topicsOfPage();
    if (!query.toString() && !script.hasAttribute('data-live-session')) {
      return;
    }
    connect(query);
    document.addEventListener('visibilitychange', function () {
      window.clearTimeout(hiddenTimer);
      if (document.visibilityState === 'hidden') {
        hiddenTimer = window.setTimeout(disconnect, HIDDEN_GRACE_MS);
      } else if (!source) {
        delay = FIRST_DELAY_MS;
        connect(query);
      }
    });
    window.addEventListener('pagehide', disconnect);
    window.addEventListener('pageshow', function (event) {
      if (event.persisted && !source) {
        connect(query);  // back from the back-forward cache
      }
    });
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
}());
