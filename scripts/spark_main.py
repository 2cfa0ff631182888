"""The command line as a Python file, for ``spark-submit`` (which launches a ``.py`` file, not a console script)::

    spark-submit --master spark://host:7077 --driver-memory 8g scripts/spark_main.py \\
        monthly /srv/signaux-faibles/depot/2610 --batch 2610 --engine spark

Under ``spark-submit`` the master and the driver's memory are its own (``--master``, ``--driver-memory``), not
the settings' (``engine.spark_session``). See docs/lists.md, "On Spark".
"""

from signaux_faibles.cli import app

if __name__ == "__main__":
    app(prog_name="signaux-faibles")
