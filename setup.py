"""Packaging for txkoji."""

from setuptools import find_packages, setup

with open("README.rst", encoding="utf-8") as readme:
    LONG_DESCRIPTION = readme.read()

setup(
    name="txkoji",
    version="1.0.0.dev0",
    description="Asynchronous Twisted client for the Koji build system",
    long_description=LONG_DESCRIPTION,
    long_description_content_type="text/x-rst",
    license="MIT",
    python_requires=">=3.10",
    packages=find_packages(include=["txkoji", "txkoji.*"]),
    package_data={"txkoji": ["py.typed"]},
    install_requires=[
        "twisted[tls]>=22.10",
        "treq>=22.1",
        "munch>=2.5",
        "pyOpenSSL>=22.0",
        "service_identity>=21.1",
    ],
    extras_require={
        "kerberos": ["pyspnego[kerberos]>=0.9"],
        "cli": ["rich>=13"],
        # Message bus transports (txkoji.bus).
        "proton": ["python-qpid-proton>=0.37"],
        "fedora": ["fedora-messaging>=3.3", "koji-fedoramessaging-messages>=1.2"],
        "stomp": ["stomp-py>=8.1"],
        # The documentation site (bash scripts/docs).
        "docs": ["sphinx>=7.2", "furo>=2024.1"],
        "tests": [
            "rich>=13",
            "koji>=1.34",
            "pytest>=7",
            "pytest-twisted>=1.14",
            "hypothesis>=6",
            "cryptography>=38",
            # The bus tests declare RabbitMQ queues as an operator would.
            "pika>=1.3",
            # test_proxies checks the proxy choice against requests' own.
            "requests>=2.31",
            # Type checking (scripts/test runs mypy txkoji with mypy.ini).
            "mypy>=2.4",
            "mypy-zope>=1.0.17",
        ],
    },
    entry_points={"console_scripts": ["txkoji = txkoji.cli:console_main"]},
    classifiers=[
        "Framework :: Twisted",
        "Programming Language :: Python :: 3",
    ],
)
