"""Flask-WTF forms of the pages. Their limits come from the same constants as the API's
schemas, so a value one accepts the other accepts too; the domain functions still have
the last word (uniqueness, stock, payment), and their errors are put back on the fields."""
