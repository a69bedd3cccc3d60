"""Document intelligence without Dagster: intake checks, page clean-up, quality score, OCR
(text layer, Tesseract, Textract), entities and the type classifier.

Modules are imported one by one (`from roi_assets.documents.ocr import ocr_document`), so using
the OCR does not load torch and training the classifier does not load Tesseract.
"""
