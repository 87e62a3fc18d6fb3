"""The improvement loop: work aimed at indicators, its measured effect and effort."""
