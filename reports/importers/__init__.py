"""Importers of the files headquarters receives: the official station list and the observer
roster. The management commands and the admin upload pages call the same functions here;
the writes themselves are done by services (reports.services.places, .observer_import).
"""
