"""Spreadsheet imports and exports of the book (CSV and XLSX): accounts, contacts, contracts, exchange rates and
activities, one service under the browser pages and the ``import_book``/``export_book`` commands.

Not django-import-export: it reads the whole file into a tablib Dataset (memory grows with the file), finds each
row's object with a query per row, previews by writing inside a transaction it rolls back, and has no undo of a
past import; here a preview writes nothing, lookups are one query per referenced model, and each import records
what it changed so that it can be undone.
"""
