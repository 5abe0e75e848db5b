"""Reference selectors a trained model must beat, readable by training and evaluation alike."""
