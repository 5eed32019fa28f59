"""The administrators' product desk: list, create, edit, put on or off sale, set stock."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from app.catalog import service as catalog
from app.catalog.service import ProductFilters
from app.errors import Conflict, Invalid
from app.pagination import page_number
from app.storefront import bp
from app.storefront.forms.admin import NewProductForm, ProductForm, StockForm
from app.storefront.forms.common import error_text, form_status, show_field_errors
from app.storefront.session import admin_required

PER_PAGE = 25


@bp.get("/admin/products")
@admin_required
def admin_products():
    q = request.args.get("q", "").strip()[:200] or None
    page = catalog.list_products(ProductFilters(q=q, include_inactive=True, sort="name"),
                                 page_number(request.args), PER_PAGE)
    return render_template("storefront/admin/products.html", page=page, q=q or "")


@bp.route("/admin/products/new", methods=["GET", "POST"])
@admin_required
def admin_new_product():
    form = NewProductForm(catalog.list_categories(include_inactive=True))
    if form.validate_on_submit():
        try:
            product = catalog.create_product({**form.changes(), "stock": form.stock.data})
        except (Conflict, Invalid) as error:
            _show(form, error)
        else:
            flash(f"{product.name} is created.", "success")
            return redirect(url_for("storefront.admin_edit_product", product_id=product.id))
    return render_template("storefront/admin/product_form.html", form=form,
                           product=None), form_status(form)


@bp.route("/admin/products/<int:product_id>", methods=["GET", "POST"])
@admin_required
def admin_edit_product(product_id: int):
    product = catalog.get_product(product_id, include_inactive=True)
    form = ProductForm(catalog.list_categories(include_inactive=True), obj=product)
    if form.validate_on_submit():
        try:
            catalog.update_product(product_id, form.changes())
        except (Conflict, Invalid) as error:
            _show(form, error)
        else:
            flash(f"{product.name} is saved.", "success")
            return redirect(url_for("storefront.admin_edit_product", product_id=product_id))
    return render_template("storefront/admin/product_form.html", form=form, product=product,
                           stock_form=StockForm(stock=product.stock)), form_status(form)


@bp.post("/admin/products/<int:product_id>/stock")
@admin_required
def admin_set_stock(product_id: int):
    form = StockForm()
    if not form.validate():
        flash(form.stock.errors[0], "error")
    else:
        try:
            product = catalog.adjust_stock(product_id, set_to=form.stock.data)
        except (Conflict, Invalid) as error:
            flash(error_text(error), "error")
        else:
            flash(f"Stock of {product.name} is now {product.stock}.", "success")
    return redirect(url_for("storefront.admin_edit_product", product_id=product_id))


@bp.post("/admin/products/<int:product_id>/deactivate")
@admin_required
def admin_deactivate_product(product_id: int):
    product = catalog.deactivate_product(product_id)
    flash(f"{product.name} is off sale: shoppers no longer see it.", "success")
    return redirect(url_for("storefront.admin_products"))


def _show(form: ProductForm, error: Conflict | Invalid) -> None:
    if not show_field_errors(form, error):
        form.form_errors.append(error_text(error))
