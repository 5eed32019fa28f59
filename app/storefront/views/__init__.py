"""The pages, one module per concern; importing them registers their routes on ``bp``."""

from app.storefront.views import (  # noqa: F401
    account,
    admin_orders,
    admin_products,
    auth,
    cart,
    checkout,
    pwa,
    seo,
    shop,
)
