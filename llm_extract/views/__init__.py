"""Views of an output directory: the HTML report, exports, statistics, evaluation."""
