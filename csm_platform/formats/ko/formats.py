"""Korean formats over Django's own (FORMAT_MODULE_PATH): the short date as Korean offices write it, 2026. 12. 7."""

SHORT_DATE_FORMAT = "Y. n. j."
SHORT_DATETIME_FORMAT = "Y. n. j. H:i"
DATE_INPUT_FORMATS = ["%Y-%m-%d", "%Y. %m. %d.", "%Y. %m. %d", "%Y년 %m월 %d일"]
