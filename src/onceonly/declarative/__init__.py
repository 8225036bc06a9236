"""An exchange declared in a file (`onceonly apply`): read and checked (document.py), and
brought about through the exchange's use cases (plan.py)."""
