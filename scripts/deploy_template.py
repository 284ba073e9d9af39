"""The deployment template with each function's code: infra/template.yaml
with every AWS::Serverless::Function's CodeUri set to the zip `make lambda`
built for it (<lambda dir>/<binary>/bootstrap.zip), as JSON on stdout.

SAM CLI (`sam deploy`) and the AWS CLI (`aws cloudformation package`)
upload those zips and point the functions at them; nothing is built again.

    python scripts/deploy_template.py infra/template.yaml target/lambda/arm64

Reads the template with cfn-lint's decoder (scripts/requirements-test.txt),
which understands the short forms (!Ref, !Sub) and writes them long.
"""

import json
import os
import sys

import cfnlint.decode


def main(template_path, lambda_dir):
    template, errors = cfnlint.decode.decode(template_path)
    if errors:
        sys.exit("\n".join(str(e) for e in errors))
    template.get("Globals", {}).get("Function", {}).pop("CodeUri", None)
    missing = []
    for name, resource in template["Resources"].items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        binary = resource["Metadata"]["BuildProperties"]["Binary"]
        code = os.path.abspath(os.path.join(lambda_dir, binary, "bootstrap.zip"))
        if not os.path.isfile(code):
            missing.append(code)
        resource["Properties"]["CodeUri"] = code
        # Built already: SAM must not build it again.
        resource.pop("Metadata", None)
    if missing:
        sys.exit("not built (make lambda): " + ", ".join(missing))
    json.dump(template, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
