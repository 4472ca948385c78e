"""Kafka jars and the Elasticsearch zip, resolved by Maven coordinates and cached on disk."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import zipfile
from collections.abc import Callable
from importlib import resources
from pathlib import Path

from pipeline.errors import StackError
from pipeline.settings import Settings

Echo = Callable[[str], None]

ES_GROUP = "org.elasticsearch.distribution.integ-test-zip"
ES_ARTIFACT = "elasticsearch"


def maven_repo(settings: Settings) -> Path:
    """Maven's local repository for the stack: every download lands here, once."""
    return settings.cache_dir / "m2"


def kafka_dir(settings: Settings) -> Path:
    """Where the broker's resolved classpath for one Kafka version is kept."""
    return settings.cache_dir / f"kafka-{settings.kafka_version}"


def _mvn(settings: Settings, args: list[str], cwd: Path, what: str) -> None:
    mvn = shutil.which("mvn")
    if mvn is None:
        raise StackError("Maven (`mvn`) is required to download Kafka and Elasticsearch")
    argv = [
        mvn,
        "-B",
        "-q",
        "--no-transfer-progress",
        f"-Dmaven.repo.local={maven_repo(settings)}",
        *args,
    ]
    result = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip().splitlines()[-15:]
        raise StackError(f"Maven could not resolve {what}:\n" + "\n".join(output))


def kafka_classpath(settings: Settings, echo: Echo) -> str:
    """The broker's runtime classpath (jars in the Maven cache), resolving it on first use."""
    target = kafka_dir(settings)
    listing = target / "classpath.txt"
    if listing.exists():
        classpath = listing.read_text().strip()
        if classpath and all(Path(jar).exists() for jar in classpath.split(os.pathsep)):
            return classpath
    echo(f"resolving Kafka {settings.kafka_version} jars with Maven (first run downloads ~150 MB)")
    target.mkdir(parents=True, exist_ok=True)
    pom = target / "pom.xml"
    pom.write_text(resources.files("pipeline.dev.stack").joinpath("kafka-pom.xml").read_text())
    _mvn(
        settings,
        [
            "-f",
            str(pom),
            f"-Dkafka.version={settings.kafka_version}",
            "dependency:build-classpath",
            "-Dmdep.includeScope=runtime",
            f"-Dmdep.outputFile={listing}",
        ],
        target,
        f"Kafka {settings.kafka_version}",
    )
    return listing.read_text().strip()


def elasticsearch_zip(settings: Settings, echo: Echo) -> Path:
    """The cached Elasticsearch integ-test-zip, downloading it on first use."""
    version = settings.elasticsearch_version
    path = (
        maven_repo(settings)
        / Path(*ES_GROUP.split("."))
        / ES_ARTIFACT
        / version
        / f"{ES_ARTIFACT}-{version}.zip"
    )
    if path.exists():
        return path
    echo(f"downloading Elasticsearch {version} (integ-test-zip, ~100 MB) with Maven")
    settings.cache_dir.mkdir(parents=True, exist_ok=True)
    _mvn(
        settings,
        [
            "dependency:get",
            f"-Dartifact={ES_GROUP}:{ES_ARTIFACT}:{version}:zip",
            "-Dtransitive=false",
        ],
        settings.cache_dir,
        f"Elasticsearch {version}",
    )
    if not path.exists():
        raise StackError(f"Maven reported success but {path} is missing")
    return path


def unpack_elasticsearch(archive: Path, home: Path, version: str) -> None:
    """Unpack the zip's single top directory into `home`, keeping executable bits."""
    marker = home / ".unpacked"
    if marker.exists() and marker.read_text().strip() == version:
        return
    if home.exists():
        shutil.rmtree(home)
    staging = home.with_name(home.name + ".partial")
    if staging.exists():
        shutil.rmtree(staging)
    with zipfile.ZipFile(archive) as bundle:
        for member in bundle.infolist():
            relative = Path(*Path(member.filename).parts[1:])
            if not relative.parts:
                continue
            dest = staging / relative
            if member.is_dir():
                dest.mkdir(parents=True, exist_ok=True)
                continue
            dest.parent.mkdir(parents=True, exist_ok=True)
            with bundle.open(member) as src, dest.open("wb") as out:
                shutil.copyfileobj(src, out)
            mode = (member.external_attr >> 16) & 0o777
            dest.chmod(mode | stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH if mode else 0o644)
    staging.replace(home)
    marker.write_text(version)


def java_home() -> Path:
    """The JDK that runs both services: JAVA_HOME, else the `java` on PATH."""
    if os.environ.get("JAVA_HOME"):
        return Path(os.environ["JAVA_HOME"])
    java = shutil.which("java")
    if java is None:
        raise StackError("a JDK (17 or newer) is required: `java` is not on PATH")
    return Path(java).resolve().parent.parent
