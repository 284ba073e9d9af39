#!/bin/sh
# Builds the Lambda functions and deploys infra/template.yaml to the AWS
# account the configured credentials belong to (docs/deploy.md).
#
#   make deploy DOMAIN=help.example.edu MAIL_DOMAIN=help.example.edu \
#               MASTER_KEY=<64 hex digits> [STAGE=prod] [ARCH=arm64|x86_64] \
#               [CERTIFICATE_ARN=...] [ALARM_EMAIL=...] [ARTIFACT_BUCKET=...]
#
# With the SAM CLI (`sam`) the zips are uploaded to SAM's managed bucket;
# with only the AWS CLI, to ARTIFACT_BUCKET. Nothing is built or uploaded
# before the credentials, the tools and the parameters are checked.
set -eu

arch="${1:-arm64}"
root=$(cd "$(dirname "$0")/.." && pwd)
python="$root/.venv/bin/python"
stage="${STAGE:-prod}"
fail() {
  echo "make deploy: $*" >&2
  exit 1
}
case "$arch" in
  arm64 | x86_64) ;;
  *) fail "ARCH must be arm64 or x86_64, not '$arch'" ;;
esac

# 1. A tool to deploy with, and credentials for it.
if command -v sam >/dev/null 2>&1; then
  tool=sam
elif command -v aws >/dev/null 2>&1; then
  tool=aws
else
  fail "neither the AWS SAM CLI (sam) nor the AWS CLI (aws) is installed: pip install aws-sam-cli"
fi
if command -v aws >/dev/null 2>&1; then
  identity=$(aws sts get-caller-identity --query Account --output text 2>&1) || identity=""
else
  identity=$("$python" -c 'import boto3; print(boto3.client("sts").get_caller_identity()["Account"])' 2>&1) || identity=""
fi
case "$identity" in
  [0-9][0-9][0-9][0-9]*) ;;
  *) fail "no AWS credentials are configured (or they are not valid): configure a profile \
(aws configure, AWS_PROFILE) or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, and AWS_REGION; \
see docs/deploy.md" ;;
esac
region="${AWS_REGION:-${AWS_DEFAULT_REGION:-$(aws configure get region 2>/dev/null || true)}}"
[ -n "$region" ] || fail "no AWS region: set AWS_REGION (one where SES receives mail, e.g. eu-west-1)"

# 2. The template's parameters.
missing=""
[ -n "${DOMAIN:-}" ] || missing="$missing DOMAIN"
[ -n "${MAIL_DOMAIN:-}" ] || missing="$missing MAIL_DOMAIN"
[ -n "${MASTER_KEY:-}" ] || missing="$missing MASTER_KEY"
[ -z "$missing" ] || fail "missing:$missing (see docs/deploy.md)"
echo "$MASTER_KEY" | grep -Eqx '[0-9a-f]{64}' || fail "MASTER_KEY must be 64 lower-case hex digits (openssl rand -hex 32)"
if [ "$tool" = aws ] && [ -z "${ARTIFACT_BUCKET:-}" ]; then
  fail "with the AWS CLI alone, name a bucket for the functions' code: ARTIFACT_BUCKET=... (or install the SAM CLI)"
fi
echo "deploying stack taquilla-$stage to account $identity in $region with $tool ($arch)"

# 3. The functions, and the template pointing at them.
"$root/scripts/lambda.sh" "$arch"
lambda_dir="${LAMBDA_DIR:-${CARGO_TARGET_DIR:-$root/target}/lambda/$arch}"
"$python" "$root/scripts/deploy_template.py" "$root/infra/template.yaml" "$lambda_dir" \
  >"$lambda_dir/template.json"

set -- Stage="$stage" Domain="$DOMAIN" MailDomain="$MAIL_DOMAIN" MasterKey="$MASTER_KEY" Architecture="$arch"
[ -z "${CERTIFICATE_ARN:-}" ] || set -- "$@" CertificateArn="$CERTIFICATE_ARN"
[ -z "${ALARM_EMAIL:-}" ] || set -- "$@" AlarmEmail="$ALARM_EMAIL"

# 4. Deploy.
if [ "$tool" = sam ]; then
  sam deploy --template-file "$lambda_dir/template.json" --stack-name "taquilla-$stage" \
    --region "$region" --resolve-s3 --capabilities CAPABILITY_IAM CAPABILITY_AUTO_EXPAND \
    --no-fail-on-empty-changeset --parameter-overrides "$@"
else
  aws cloudformation package --template-file "$lambda_dir/template.json" \
    --s3-bucket "$ARTIFACT_BUCKET" --s3-prefix "taquilla-$stage" --use-json \
    --output-template-file "$lambda_dir/packaged.json" --region "$region"
  aws cloudformation deploy --template-file "$lambda_dir/packaged.json" \
    --stack-name "taquilla-$stage" --region "$region" \
    --capabilities CAPABILITY_IAM CAPABILITY_AUTO_EXPAND \
    --no-fail-on-empty-changeset --parameter-overrides "$@"
fi
echo "deployed taquilla-$stage; the steps only you can take are in docs/deploy.md"
