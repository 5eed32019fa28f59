"""users.session_epoch, and an index on lower(products.name)

Revision ID: 0002
Revises: 0001

``users.session_epoch`` is part of the page session's fingerprint: bumping it (signing out,
deactivation) makes every copy of an older session cookie worthless.

``ix_products_lower_name`` serves search's exact-name arm, so PostgreSQL can answer
``search_vector @@ q OR lower(name) = lower(q)`` with a BitmapOr of this index and the GIN
index instead of scanning every product.
"""
import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_epoch', sa.Integer(), server_default='0',
                                      nullable=False))
    op.create_index('ix_products_lower_name', 'products', [sa.text('lower(name)')],
                    unique=False)


def downgrade():
    op.drop_index('ix_products_lower_name', table_name='products')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('session_epoch')
