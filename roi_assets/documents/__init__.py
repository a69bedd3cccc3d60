"""Document intelligence: intake checks, page clean-up, quality score, OCR (text layer,
Tesseract, Textract), entities and the type classifier, as plain modules; arrivals, landed files,
the reading cache, the labelled corpus, the classifier's evaluation and the quarantine record
around them, also free of Dagster.

Dagster lives in `assets.py`, `checks.py`, `sensors.py` and `definitions.py` only, and
`process_landed` runs the arrival sensor's requests from the command line (`make run`).

Modules are imported one by one (`from roi_assets.documents.ocr import ocr_document`), so using
the OCR does not load torch and training the classifier does not load Tesseract.
"""
