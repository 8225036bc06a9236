"""The demo's running parts: the organisations' receivers and the scripted walkthrough.
The demo world itself (its data) is onceonly.demo."""
