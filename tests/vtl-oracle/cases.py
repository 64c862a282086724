#!/usr/bin/env python3
"""The VTL oracle corpus: case definitions, and the glue record.sh uses.

  cases.py emit          -> JSON lines of every case's inputs (for Oracle.java)
  cases.py merge OUT     -> corpus/<group>.json: inputs + the oracle's recorded result

A case may carry `aws`: the output API Gateway gives where it deliberately differs from the
oracle (the Rust test then expects `aws`, and the oracle's output stays recorded beside it),
with `note` saying why. A case listed in GAPS carries `known_gap`: a recorded divergence the
engine does not reproduce (the Rust test reports these and does not compare them).
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

DEFAULT_CONTEXT = {
    "resourceId": "abc123", "resourcePath": "/pets/{id}", "httpMethod": "POST",
    "extendedRequestId": "Xyz1AbCdIAMFa0Q=", "requestTime": "04/Mar/2020:19:15:17 +0000",
    "path": "/dev/pets/7", "accountId": "123456789012", "protocol": "HTTP/1.1", "stage": "dev",
    "domainPrefix": "a1b2c3", "requestTimeEpoch": 1583349317135,
    "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
    "identity": {"cognitoIdentityPoolId": None, "accountId": None, "cognitoIdentityId": None,
                 "caller": None, "sourceIp": "203.0.113.7", "principalOrgId": None,
                 "accessKey": None, "cognitoAuthenticationType": None,
                 "cognitoAuthenticationProvider": None, "userArn": None,
                 "userAgent": "curl/8.4.0", "user": None},
    "domainName": "a1b2c3.execute-api.us-east-1.amazonaws.com", "deploymentId": "dep001",
    "apiId": "a1b2c3",
    "authorizer": {"principalId": "user-1", "stringkey": "value", "numkey": "1", "boolkey": "true"},
}
DEFAULT_STAGE = {"env": "prod", "table": "pets", "url": "https://example.com/a b"}
DEFAULT_PARAMS = {
    "path": [["id", "7"]],
    "querystring": [["name", "bob"], ["limit", "10"]],
    "header": [["Content-Type", "application/json"], ["X-Trace", "t-1"], ["Accept", "*/*"]],
}
PETS = '{"pets":[{"type":"dog","price":249.99,"tags":["a","b"]},{"type":"cat","price":124.99,"tags":[]},{"type":"fish","price":0.5}],"owner":{"name":"Ann","age":34,"vip":true,"nick":null},"count":3,"big":12345678901,"huge":123456789012345678901234,"neg":-5,"exp":1.5e10,"str":"a/b \\"q\\" \\u00e9"}'

GROUPS = {}


def case(group, name, template, body=PETS, params=None, context=None, stage=None, aws=None, note=None):
    c = {"name": name, "template": template, "body": body}
    if params is not None:
        c["params"] = params
    if context is not None:
        c["context"] = context
    if stage is not None:
        c["stage"] = stage
    if aws is not None:
        c["aws"] = aws
        c["note"] = note or ""
    elif note:
        c["note"] = note
    GROUPS.setdefault(group, []).append(c)


def q(**kw):
    return {"path": [], "querystring": [[k, v] for k, v in kw.items()], "header": []}


# ---------------------------------------------------------------- seeds and AWS documentation
SEED = '{"greeter":"$input.params(\'greeter\')"}'
case("aws_docs", "seed greeter present", SEED, "", q(greeter="me"))
case("aws_docs", "seed greeter absent", SEED, "", q())
case("aws_docs", "seed greeter from header", SEED, "", {"path": [], "querystring": [], "header": [["Greeter", "hdr"]]})
case("aws_docs", "seed greeter path wins", SEED, "", {"path": [["greeter", "p"]], "querystring": [["greeter", "q"]], "header": [["greeter", "h"]]})
case("aws_docs", "seed greeter query before header", SEED, "", {"path": [], "querystring": [["greeter", "q"]], "header": [["greeter", "h"]]})

PASSTHROUGH = """## See http://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-mapping-template-reference.html
#set($allParams = $input.params())
{
"method" : "$context.httpMethod", ## API method
"authcontext" : "$context.authorizer.stringkey", ## Optional output from Lambda Authorizers
## passthrough body
"body-json" : $input.json('$'),
## passthrough headers, querystrings and path parameters
"params" : {
#foreach($type in $allParams.keySet())
#set($params = $allParams.get($type))
"$type" : {
#foreach($paramName in $params.keySet())
"$paramName" : "$util.escapeJavaScript($params.get($paramName))"
#if($foreach.hasNext),#end
#end
}
#if($foreach.hasNext),#end
#end
}
}
"""
TEN_HEADERS = [["Host", "api.example.com"], ["User-Agent", "curl/8.4.0"], ["Accept", "*/*"],
               ["Content-Type", "application/json"], ["X-Amz-Date", "20240101T000000Z"],
               ["X-Forwarded-For", "203.0.113.7"], ["X-Forwarded-Port", "443"],
               ["X-Forwarded-Proto", "https"], ["header1", "value1"], ["header2", "va\"l'ue/2"]]
FIVE_QUERY = [["query1", "querystring1"], ["query2", "querystring2"], ["q3", "a b"], ["q4", "é"], ["q5", ""]]
case("aws_docs", "seed 003 passthrough", PASSTHROUGH, '{"keybody":"valuebody"}',
     {"path": [["proxy", "path1/path2"]], "querystring": [["query1", "querystring1"], ["query2", "querystring2"]],
      "header": [["header1", "value1"], ["header2", "value2"], ["Content-Type", "application/json"]]})
case("aws_docs", "seed 003 passthrough 10 headers 5 query", PASSTHROUGH, PETS,
     {"path": [["proxy", "a/b"]], "querystring": FIVE_QUERY, "header": TEN_HEADERS})
case("aws_docs", "seed 003 passthrough no params", PASSTHROUGH, '{}', {"path": [], "querystring": [], "header": []})
case("aws_docs", "seed 003 passthrough GET without body", PASSTHROUGH, '', DEFAULT_PARAMS)
case("aws_docs", "seed 003 passthrough whitespace body", PASSTHROUGH, ' \n', DEFAULT_PARAMS)
case("aws_docs", "seed 003 passthrough array body", PASSTHROUGH, '[1,2,{"a":null}]', DEFAULT_PARAMS)
case("aws_docs", "seed 003 passthrough non-JSON body", PASSTHROUGH, 'a=1&b=2', DEFAULT_PARAMS)
case("aws_docs", "doc example 1 things", """{"id":"$input.params('id')","count":"$input.path('$.things').size()","things":$input.json('$.things')}""",
     '{"things":{"1":{},"2":{},"3":{}}}', {"path": [["id", "abc"]], "querystring": [], "header": []})
case("aws_docs", "doc example 2 name and body", """{"name":"$input.params('name')","body":$input.json('$')}""", '{"a":1}', q(name="bob"))
case("aws_docs", "doc example 3 foreach hasNext", '#foreach($k in ["a","b","c"])$k#if($foreach.hasNext),#end#end')
case("aws_docs", "doc example 4 mock status", '{"statusCode": 200}')
case("aws_docs", "doc example 5 response override", "#set($context.responseOverride.status = 418)$input.json('$')", '{"ok":true}')
case("aws_docs", "doc example 6 all params", """#set($all=$input.params()){#foreach($type in $all.keySet())"$type":{#foreach($n in $all.get($type).keySet())"$n":"$util.escapeJavaScript($all.get($type).get($n))"#if($foreach.hasNext),#end#end}#if($foreach.hasNext),#end#end}""", "", DEFAULT_PARAMS)
case("aws_docs", "petstore array mapping", """#set($inputRoot = $input.path('$'))
[
#foreach($elem in $inputRoot.pets)
  {
    "description" : "Item $elem.type is a $elem.type.",
    "askingPrice" : $elem.price
  }#if($foreach.hasNext),#end

#end
]""")
case("aws_docs", "petstore getter style", """#set($inputRoot = $input.path('$'))
{
  "owner": "$inputRoot.owner.name",
  "age": $inputRoot.owner.age,
  "vip": $inputRoot.owner.vip,
  "first": "$inputRoot.pets[0].type",
  "n": $inputRoot.pets.size()
}""")
case("aws_docs", "doc json of pets", """{"first":$input.json('$.pets[0]'),"all":$input.json('$.pets[*].type'),"n":"$input.path('$.pets').size()"#foreach($p in $input.path('$.pets')),"$p.type":$p.price#end}""")
case("aws_docs", "doc header get", "$input.params().header.get('Content-Type')|$input.params().querystring.name|$input.params().path.id", "", DEFAULT_PARAMS)
case("aws_docs", "doc escapeJavaScript idiom", """#set($x = 'it''s "x"/y')$util.escapeJavaScript($x).replaceAll("\\\\'","'")""")
case("aws_docs", "doc parseJson", """$util.parseJson('{"a":[1,2]}').a[0]""")
case("aws_docs", "doc urlEncode", "$util.urlEncode('a b&c/é')|$util.urlDecode('a+b%26c')|$util.base64Encode('hello')|$util.base64Decode('aGVsbG8=')")
case("aws_docs", "doc stage variables", "$stageVariables.env|$stageVariables['table']|${stageVariables['env']}|[$stageVariables.missing]")
case("aws_docs", "doc context vars", "$context.apiId $context.stage $context.httpMethod $context.resourcePath $context.path $context.identity.sourceIp $context.identity.userAgent $context.requestTimeEpoch $context.authorizer.principalId")
case("aws_docs", "doc context null identity", '{"user":"$context.identity.user","caller":"$context.identity.caller","key":"$context.identity.apiKey"}')
case("aws_docs", "doc claims null", "[$context.authorizer.claims][$context.authorizer.claims.sub]")
case("aws_docs", "doc limit check idiom", """#set($limit = $input.params('limit'))
{
#if($limit && $limit.length() != 0)
"limit": "$input.params('limit')",
#end
"user_id" : "$input.params('user_id')"
}""", "", q(user_id="abc", limit="100"))
case("aws_docs", "doc limit check idiom absent", """#set($limit = $input.params('limit'))
{
#if($limit && $limit.length() != 0)
"limit": "$input.params('limit')",
#end
"user_id" : "$input.params('user_id')"
}""", "", q(user_id="abc"))
case("aws_docs", "doc body as string", '{"raw":"$util.escapeJavaScript($input.body)"}', '{"a": "b"}')
case("aws_docs", "doc input body plain", "$input.body", "hello world")
case("aws_docs", "doc lambda error mapping", """#set($inputRoot = $input.path('$'))
{
  "errorMessage" : "$inputRoot.errorMessage",
  "type": "$inputRoot.errorType"
}""", '{"errorMessage":"Not found: 7","errorType":"NotFound","stackTrace":[]}')
case("aws_docs", "doc dynamodb style", """{
    "TableName": "$stageVariables.table",
    "Key": {
        "id": {"S": "$input.params('id')"}
    }
}""", "", DEFAULT_PARAMS)
case("aws_docs", "doc sqs form encoded", "Action=SendMessage&MessageBody=$util.urlEncode($input.body)", '{"m":"hi there"}')
case("aws_docs", "doc keySet context", "#foreach($k in $context.identity.keySet())$k#if($foreach.hasNext),#end#end")
case("aws_docs", "doc response override headers", "#set($context.responseOverride.header.X-Custom = 'v1')#set($context.responseOverride.status = 201)done")
case("aws_docs", "doc request override", "#set($context.requestOverride.header.X-B = $input.params('name'))#set($context.requestOverride.querystring.q = 'x')#set($context.requestOverride.path.p = 7)ok", "", DEFAULT_PARAMS)

PHOTOS = '{ "photos": { "page": 1, "pages": "1234", "perpage": 100, "total": "123398", "photo": [ { "id": "12345678901", "owner": "23456789@A12", "photographer_first_name" : "Saanvi", "photographer_last_name" : "Sarkar", "secret": "abc123d456", "server": "1234", "farm": 1, "title": "Sample photo 1", "ispublic": true, "isfriend": false, "isfamily": false }, { "id": "23456789012", "owner": "34567890@B23", "photographer_first_name" : "Richard", "photographer_last_name" : "Roe", "secret": "bcd234e567", "server": "2345", "farm": 2, "title": "Sample photo 2", "ispublic": true, "isfriend": false, "isfamily": false } ] } }'
case("aws_docs", "photos output template", """#set($inputRoot = $input.path('$'))
{
  "photos": [
#foreach($elem in $inputRoot.photos.photo)
    {
      "id": "$elem.id",
      "photographedBy": "$elem.photographer_first_name $elem.photographer_last_name",
      "title": "$elem.title",
      "ispublic": $elem.ispublic,
      "isfriend": $elem.isfriend,
      "isfamily": $elem.isfamily
    }#if($foreach.hasNext),#end
		
#end
  ]
}""", PHOTOS)
case("aws_docs", "photos input template", """#set($inputRoot = $input.path('$'))
{
  "photos": {
    "page": $inputRoot.photos.page,
    "pages": "$inputRoot.photos.pages",
    "perpage": $inputRoot.photos.perpage,
    "total": "$inputRoot.photos.total",
    "photo": [
#foreach($elem in $inputRoot.photos.photo)
      {
        "id": "$elem.id",
        "owner": "$elem.owner",
        "secret": "$elem.secret",
        "server": "$elem.server",
        "farm": $elem.farm,
        "title": "$elem.title",
        "ispublic": $elem.ispublic,
        "isfriend": $elem.isfriend,
        "isfamily": $elem.isfamily
      }#if($foreach.hasNext),#end
		
#end
    ]
  }
}""", PHOTOS)
case("aws_docs", "photos one-line template", """#set($inputRoot = $input.path('$')) { "photos": [ #foreach($elem in $inputRoot.photos.photo) { "id": "$elem.id", "photographedBy": "$elem.photographer_first_name $elem.photographer_last_name", "title": "$elem.title", "ispublic": $elem.ispublic, "isfriend": $elem.isfriend, "isfamily": $elem.isfamily }#if($foreach.hasNext),#end #end ] }""", PHOTOS)
NEWS = '{"count": 1, "items": [{"description": "Descr", "domain": "example.com", "id": 1, "lastEdited": "2024-01-01", "source": "wire", "title": "Headline \"quoted\"", "url": "https://example.com/a"}]}'
case("aws_docs", "news items template", """#set($inputRoot = $input.path('$'))
{
  "count": $inputRoot.count,
  "items": [
#foreach($elem in $inputRoot.items)
    {
      "description": "$elem.description",
      "domain": "$elem.domain",
      "id": $elem.id,
      "lastEdited": "$elem.lastEdited",
      "source": "$elem.source",
      "title": "$util.escapeJavaScript($elem.title)",
      "url": "$elem.url"
    }#if($foreach.hasNext),#end
#end
  ]
}""", NEWS)
case("aws_docs", "filter json path in template", """{"cheap": $input.json('$.pets[?(@.price < 200)]'), "types": $input.json('$.pets[*].type')}""")
case("aws_docs", "context in body", """{
  "stage" : "$context.stage",
  "request_id" : "$context.requestId",
  "api_id" : "$context.apiId",
  "resource_path" : "$context.resourcePath",
  "resource_id" : "$context.resourceId",
  "http_method" : "$context.httpMethod",
  "source_ip" : "$context.identity.sourceIp",
  "user-agent" : "$context.identity.userAgent",
  "account_id" : "$context.identity.accountId",
  "api_key" : "$context.identity.apiKey",
  "caller" : "$context.identity.caller",
  "user" : "$context.identity.user",
  "user_arn" : "$context.identity.userArn"
}""")
case("aws_docs", "headers loop", """{
#foreach($header in $input.params().header.keySet())
  "$header": "$util.escapeJavaScript($input.params().header.get($header))"#if($foreach.hasNext),#end

#end
}""", "", {"path": [], "querystring": [], "header": TEN_HEADERS})
case("aws_docs", "query string to json", """{
#foreach($key in $input.params().querystring.keySet())
  "$key": "$util.escapeJavaScript($input.params().querystring.get($key))"#if($foreach.hasNext),#end
#end
}""", "", {"path": [], "querystring": FIVE_QUERY, "header": []})
case("aws_docs", "stage variable lambda alias", """{"alias": "$stageVariables.env", "fn": "arn:aws:lambda:us-east-1:123456789012:function:f:${stageVariables.env}"}""")

# --------------------------------------------------------------------------------- references
R = "references"
for t in ["$x", "${x}", "$!x", "$!{x}", "$x.length()", "${x.length()}", "$!{x.toUpperCase()}", "$x.toUpperCase().length()",
          "$m.k", "$m['k']", '$m["k"]', "$m.get('k')", "${m.k}", "$l[1]", "$l[0].length()", "$m.n.a", "$m.n['a']", "$m.l[2]",
          "$u", "$!u", "${u}", "$u.foo", "$u.foo()", "$x.nomethod()", "$x.nomethod", "$m.missing.deeper",
          "$x.", "$x..", "$x.1", "$x-y", "$x_y", "${x}y", "$xy", "$x[", "${x", "$", "$$", "$1", "$!", "$!!x", "$.x", "$x(", "$x.length( )",
          "$m.k.length()$m.k", "[$x]", "($x)", "$x$x", "$x,$x", "$l.get(0)", "$l[1 + 1]", "$m[$key]", "$l[$i]"]:
    case(R, "ref " + t, '#set($x = "abc")#set($m = {"k": "v", "n": {"a": 1}, "l": [1, 2, 3]})#set($l = ["p", "q", "r"])#set($key = "k")#set($i = 2)' + t)
case(R, "ref text around", 'a$x-b ${x}c $x.d', '')
case(R, "ref x-y is identifier", '#set($x-y = 5)$x-y|$x - 1', '')
case(R, "ref email like text", 'user@example.com $5.00 cost #1 item')
case(R, "ref index out of bounds", '#set($l = [1])$l[3]')
case(R, "ref negative index", '#set($l = [1, 2])$l[-1]')
case(R, "ref getter style", '#set($m = {"a": {"b": "c"}})$m.a.b $m.get("a").get("b")')

# ---------------------------------------------------------------------------------- whitespace
W = "whitespace"
ws_cases = [
    "a\n#set($x = 1)\nb$x\n",
    "a\n  #set($x = 1)  \nb$x\n",
    "a\n\t#set($x = 1)\t\nb$x",
    "a #set($x = 1) b$x",
    "a\n#if(true)\nyes\n#end\nz\n",
    "a\n  #if(true)  \n  yes\n  #end  \nz\n",
    "#if(true) x #end|",
    "#if(false)\nno\n#else\nelse\n#end\nafter",
    "#if(false)\nno\n#elseif(true)\nmid\n#else\nelse\n#end\nafter",
    "#foreach($i in [1..3])\n$i\n#end\n",
    "#foreach($i in [1..3])\n  item $i,\n#end\nend",
    "#foreach($i in [1..2])$i #end\n",
    "x\n\n#set($a = 1)\n\ny",
    "#set($a = 1)\r\nb\r\n#if(true)\r\nc\r\n#end\r\nd",
    "## comment\nline\n## another\r\nx",
    "text ## trailing comment\nnext",
    "#* block *#\nafter",
    "a#* inline *#b",
    "#*\nmulti\nline\n*#c",
    "#macro(m)M#end\n#m()\n#m() tail\n",
    "#define($d)\nD\n#end\n$d|$d",
    "#if(true)#end\nx",
    "#if(true)   \t  \nx#end",
    "#{if}(true)\nb#{else}\nc#{end}\nd",
    "a\n#break\nb",
    "#foreach($i in [1..3])$i#if($i == 2)#break#end\n#end\nafter",
    "#set($x = 1) \n \n$x",
    "line1\n   #set($a = 'x')\n   $a\n",
    "   #if(true)\n   x\n   #end",
    "#if(true)\n#if(true)\nnested\n#end\n#end\n",
]
for i, t in enumerate(ws_cases):
    case(W, f"ws {i} {t[:30]!r}", t)
case(W, "ws seed style object", "{\n  #set($n = $input.path('$.owner.name'))\n  \"name\": \"$n\",\n  #if($n == 'Ann')\n  \"ann\": true\n  #end\n}\n")

# ------------------------------------------------------------------------------------ literals
L = "literals"
lit = [
    "#set($s = 'single $x')$s", '#set($x = 1)#set($s = "double $x")$s', "#set($s = 'it''s')$s", '#set($s = "say ""hi""")$s',
    '#set($s = "tab\\there")$s', "#set($s = 'uni\\u0041')$s", '#set($s = "uni\\u00e9")$s', '#set($s = "")[$s]', "#set($s = '')[$s]",
    '#set($x = 2)#set($s = "${x}nd")$s', '#set($s = "#if(true)in#end")$s', '#set($s = "a#b")$s', '#set($s = "price: $5")$s',
    "#set($i = 42)$i", "#set($i = -42)$i", "#set($i = 2147483647)$i", "#set($i = 2147483648)$i", "#set($i = 9223372036854775807)$i",
    "#set($f = 3.14)$f", "#set($f = -0.5)$f", "#set($f = 1.0)$f", "#set($f = 10.50)$f", "#set($f = 1e3)$f", "#set($f = 1.5E-5)$f",
    "#set($f = 12345678.9)$f", "#set($f = 0.001)$f", "#set($f = 0.0001)$f", "#set($b = true)$b", "#set($b = false)$b",
    "#set($l = [])$l", "#set($l = [1, 'two', \"three\", 4.0, true, [5], {'k': 'v'}])$l", "#set($l = [1,2,3])$l.size()",
    "#set($r = [1..5])$r", "#set($r = [5..1])$r", "#set($r = [0..0])$r", "#set($r = [-2..2])$r", "#set($a = 2)#set($b = 4)#set($r = [$a..$b])$r",
    "#set($r = ['1'..'3'])$r", "#set($m = {})$m", "#set($m = {'a': 1, 'b': 'two', 'c': [3]})$m", '#set($m = {"z": 1, "a": 2, "m": 3})$m.keySet()',
    "#set($m = {1: 'one', 2: 'two'})$m", "#set($m = {'a': {'b': {'c': 'd'}}})$m.a.b.c", "#set($x = 'k')#set($m = {$x: $x})$m",
    '#set($l = ["$x", "${x}!"])$l', "#set($l = [ 1 , 2 ])$l", "#set($m = { 'a' : 1 })$m", "#set($x = [1..3])#foreach($i in $x)$i#end",
    '#set($s = "multi\nline")$s', "#set($l = [1, [2, [3, [4]]]])$l", "#set($e = {})$e.isEmpty() $e.size()",
]
for i, t in enumerate(lit):
    case(L, f"lit {i} {t[:40]}", t, "")

# ----------------------------------------------------------------------------------- operators
O = "operators"
arith = ["7 / 2", "7 % 2", "-7 / 2", "-7 % 3", "7.0 / 2", "7 / 2.0", "1 / 0", "1 % 0", "1.0 / 0", "2147483647 + 1", "2147483647 * 2",
         "9223372036854775807 + 1", "2147483647 * 2147483647", "-2147483648 - 1", "3 - 5", "2 + 3 * 4", "(2 + 3) * 4", "10 - 2 - 3",
         "100 / 10 / 5", "0.1 + 0.2", "1.5 * 2", "10 * 0.1", "3 % 2.5", "$n + 1", "$n * $n", "$n / 3", "$f + 1", "$s + 1", "1 + $s",
         "$s + $s", "$u + 1", "'a' + $u", "$u + 'a'", "$l + 1", "$big + 1", "$big * 1000000000", "5 - -3", "1e2 + 1", "$n - 1"]
for t in arith:
    case(O, f"arith {t}", '#set($n = 7)#set($f = 2.5)#set($s = "s")#set($l = [1])#set($big = 9000000000)#set($r = ' + t + ')[$r]', "")
cmp = ["1 == 1", "1 == 1.0", "1 == '1'", "'a' == 'a'", "'a' == 'b'", "$u == $u2", "$u == 'x'", "1 != 2", "1 < 2", "2 <= 2", "3 > 2",
       "2 >= 3", "'a' < 'b'", "1 < 'b'", "$l == $l2", "$l == [1, 2]", "$m == {'a': 1}", "true == 'true'", "1 eq 1", "1 ne 1", "1 lt 2",
       "2 gt 1", "2 le 2", "2 ge 3", "true && false", "true || false", "!true", "!$u", "not true", "true and true", "false or true",
       "$u && true", "$s && true", "'' && true", "!($n > 5)", "$n > 5 && $n < 10", "$n < 5 || $n == 7", "!$s", "$big > $n", "1.5 > 1"]
for t in cmp:
    case(O, f"cmp {t}", '#set($n = 7)#set($s = "")#set($l = [1, 2])#set($l2 = [1, 2])#set($m = {"a": 1})#set($big = 9000000000)#set($r = ' + t + ')$r|#if(' + t + ')T#{else}F#end', "")
truth = ['"a"', "1", "0", "''", "[]", "{}", "$s", "$e", "$z", "$zero", "$f", "$t", "$u", "$l", "$m", "$n.length()", "'true'", "1 + 1"]
for t in truth:
    case(O, f"truth {t}", '#set($s = "x")#set($e = "")#set($zero = 0)#set($f = false)#set($t = true)#set($l = [])#set($m = {})#set($n = "abc")#if(' + t + ')T#{else}F#end', "")
case(O, "minus without spaces is a literal", "#set($a = 5-3)$a", "")
case(O, "unary minus on reference", "#set($b = 4)#set($a = -$b)[$a]", "")

# ---------------------------------------------------------------------------------- directives
D = "directives"
dirs = [
    "#set($a = 1)#set($a = $u)$a", "#set($a = 1)#set($a = $u.b())$a", "#set($m = {})#set($m.k = 'v')$m", "#set($m = {'k': 1})#set($m.k = $u)$m",
    "#set($l = [1, 2])#set($l[0] = 9)$l", "#set($m = {})#set($m['x'] = 1)$m", "#set( $a = 'spaced' )$a", "#set($a='nospace')$a",
    "#set($a = $b = 1)", "#set($a)", "#set(a = 1)",
    "#if($u)a#elseif($v)b#elseif(true)c#{else}d#end", "#if(true)a#{else}b#end", "#if(false)a#end|", "#if(true)#if(false)x#{else}y#end#end",
    "#foreach($i in [1..3])$velocityCount#end", "#foreach($i in [1..3])$foreach.count:$foreach.index:$foreach.first:$foreach.last #end",
    "#foreach($i in [])x#end|", "#foreach($i in $u)x#end|", "#foreach($i in 'str')x#end|", "#foreach($i in 5)x#end|",
    "#foreach($v in {'a': 1, 'b': 2})$v#end", "#foreach($e in {'a': 1, 'b': 2}.entrySet())$e.key=$e.value;#end",
    "#foreach($k in {'a': 1, 'b': 2}.keySet())$k#end", "#set($i = 'outer')#foreach($i in [1, 2])$i#end$i",
    "#foreach($i in [1, 2])#foreach($j in ['a', 'b'])$i$j$foreach.parent.index #end#end",
    "#foreach($i in [1, 2])#foreach($j in [1, 2])$velocityCount#end#end", "#foreach($i in [1..5])#if($i == 3)#break#end$i#end",
    "#foreach($i in [1, 2])#foreach($j in [1, 2, 3])#if($j == 2)#break#end$i$j #end#end", "a#stop b", "#foreach($i in [1..3])$i#if($i == 2)#stop#end#end after",
    "#define($d)D$x#end#set($x = 1)$d #set($x = 2)$d", "#define($d)[#foreach($i in [1,2])$i#end]#end$d$d", "#macro(greet $n)Hi $n!#end#greet('bob') #greet(\"amy\")",
    "#macro(add $a $b)#set($r = $a + $b)$r#end#add(1 2) #add(3, 4)", "#macro(noargs)NA#end#noargs()#noargs", "#macro(m $a)$a#end#m()|#m(1 2)|",
    "#macro(rec $n)$n#if($n > 0)#set($n1 = $n - 1)#rec($n1)#end#end#rec(3)", "#macro(inf)x#inf()#end#inf()",
    "#macro(show $l)#foreach($x in $l)$x#end#end#show([1, 2, 3])", "#macro(m $x)#set($x = 'changed')#end#set($y = 'orig')#m($y)$y",
    "#macro(m)#set($g = 'global')#end#m()$g", "#evaluate('#set($e = 1)$e')", "#set($src = '$x')#set($x = 5)#evaluate($src)",
    "#foreach($i in [1..3])#set($last = $i)#end$last", "#if(true)unclosed", "#end", "#else", "#foreach($i [1])x#end", "#foreach($i in [1])x",
    "#if()x#end", "#set($x = )", "#include('x.vm')", "#parse('x.vm')", "#unknown(1) #notadirective", "#if(true)\n#elseif(false)\nb\n#end",
    "#foreach($i in [1..1001])#set($c = $foreach.count)#end$c", "#foreach($i in [1..1001])#end$velocityCount",
]
for i, t in enumerate(dirs):
    case(D, f"dir {i} {t[:40]}", t, "")

# ------------------------------------------------------------------------------ escapes/comments
E = "escapes"
esc = ["\\$u", "\\\\$u", "\\\\\\$u", "\\\\\\\\$u", "\\$d", "\\\\$d", "\\\\\\$d", "\\\\\\\\$d", "\\$d.length()", "\\${d}", "\\$!d", "\\$!u",
       "\\#if", "\\#set($x = 1)", "\\\\#if(true)y#end", "\\#end", "\\#foo", "a\\b", "\\\\", "\\", "x\\", "\\#{if}", "\\#*", "#[[ #if $x ]]#",
       "#[[unclosed", "#* unclosed", "a ## comment $x", "a #* $x *# b", "##", "#", "# #", "#1", "#$d", "\\n", "$d\\$d"]
for i, t in enumerate(esc):
    case(E, f"esc {i} {t}", '#set($d = "D")' + t, "")

# ------------------------------------------------------------------------------------- methods
M = "methods"
sm = ["length()", "substring(1)", "substring(1, 3)", "substring(0, 0)", "substring(9)", "substring(2, 1)", "substring('1')", "indexOf('l')",
      "indexOf('l', 4)", "indexOf('z')", "lastIndexOf('l')", "replace('l', 'L')", "replace('', '-')", "replaceAll('l+', '_')",
      "replaceAll('(H)(e)', '$2$1')", "replaceFirst('l', 'L')", "toLowerCase()", "toUpperCase()", "trim()", "contains('ell')",
      "contains('x')", "startsWith('He')", "endsWith('!')", "matches('H.*!')", "matches('ell')", "equals('Hello, World!')", "equals(1)",
      "equalsIgnoreCase('HELLO, WORLD!')", "isEmpty()", "charAt(0)", "charAt(99)", "concat('?')", "split(', ')", "split(',').size()",
      "split('')", "split('l').size()", "compareTo('Hello')", "compareTo('Z')", "hashCode()", "toString()", "length", "empty",
      "substring(7).toUpperCase().length()", "split(', ')[1]", "split(', ').get(0)", "nonexistent()", "trim().length()",
      "replaceAll('[aeiou]', '')", "replaceAll('o', '\\\\$')", "matches('[')", "indexOf(1)"]
for t in sm:
    case(M, f"string {t}", '#set($s = " Hello, World! ")#set($s = $s.trim())$s.' + t, "")
case(M, "string split foreach", '#set($s = "a,b,,c,,")#foreach($p in $s.split(","))[$p]#end $s.split(",").size()', "",
     aws=None)
case(M, "string unicode", '#set($s = "héllo wörld")$s.length() $s.toUpperCase() $s.substring(1, 4) $s.indexOf("w")', "")
lm = ["size()", "get(0)", "get(5)", "isEmpty()", "contains(2)", "contains('2')", "indexOf(3)", "add(4)", "remove(0)", "remove('b')",
      "set(0, 'x')", "subList(1, 3)", "clear()", "lastIndexOf(1)", "empty", "toString()", "get('0')"]
for t in lm:
    case(M, f"list {t}", '#set($l = [1, 2, 3, "b", 1])#set($r = $l.' + t + ')[$r] $l', "")
case(M, "list add discard", "#set($l = [])#set($d = $l.add('a'))#set($d = $l.add('b'))$l $l.size()", "")
case(M, "list shared reference", "#set($a = [1])#set($b = $a)#set($d = $b.add(2))$a", "")
case(M, "list add at index", "#set($l = ['a', 'c'])$l.add(1, 'b')$l", "")
case(M, "list addAll", "#set($l = [1])#set($d = $l.addAll([2, 3]))$l $d", "")
mm = ["get('a')", "get('zz')", "put('c', 3)", "put('a', 9)", "keySet()", "values()", "entrySet()", "containsKey('a')", "containsKey('z')",
      "containsValue(2)", "size()", "isEmpty()", "remove('a')", "remove('z')", "a", "empty", "getOrDefault('z', 'dflt')", "toString()",
      "putIfAbsent('a', 5)", "clear()"]
for t in mm:
    case(M, f"map {t}", "#set($m = {'a': 1, 'b': 2})#set($r = $m." + t + ")[$r] $m", "")
for t in ["$m.get(1)|$m.get('1')|$m[1]|$m.keySet()|$m.containsKey(1)|$m.containsKey('1')", "#set($d = $m.put('1', 's'))$m $m.size()",
          "#foreach($k in $m.keySet())$k.class.simpleName #end", "#set($d = $m.remove(1))$m", "#set($m2 = {true: 'b', 1.5: 'd'})$m2.get(true) $m2.get(1.5) $m2"]:
    case(M, f"map non-string keys {t}", "#set($m = {1: 'one', 2: 'two'})" + t, "")
case(M, "map putAll", "#set($m = {'a': 1})#set($d = $m.putAll({'b': 2}))$m", "")
case(M, "map entry methods", "#foreach($e in {'a': 1}.entrySet())$e.getKey() $e.getValue() $e.key $e.value $e#end", "")
nm = ["toString()", "intValue()", "longValue()", "doubleValue()", "compareTo(3)", "compareTo(9)", "equals(5)", "equals('5')", "class"]
for t in nm:
    case(M, f"int {t}", "#set($n = 5)$n." + t, "")
for t in ["intValue()", "longValue()", "toString()", "doubleValue()", "isNaN()"]:
    case(M, f"double {t}", "#set($n = 2.75)$n." + t, "")
case(M, "bool methods", "#set($b = true)$b.toString() $b.booleanValue() $b.equals(true)", "")
case(M, "method on null", "$u.size() [$u.get(0)]", "")
case(M, "chained on path", "$input.path('$.pets').get(0).type.toUpperCase()")
case(M, "path size and keyset", "$input.path('$.owner').keySet() $input.path('$.owner').size() $input.path('$.pets[0].tags').size()")

# --------------------------------------------------------------------------------- input / jsonpath
I = "input"
paths = ["$", "$.pets", "$.pets[0]", "$.pets[0].type", "$.pets[1].tags", "$.pets[*].type", "$.pets[*].price", "$..type", "$..tags",
         "$.pets[-1]", "$.pets[0,1].type", "$.pets[1:]", "$.pets[:2].type", "$.pets[?(@.price > 100)].type", "$.pets[?(@.type == 'cat')]",
         "$.pets[?(@.tags)].type", "$.owner", "$.owner.name", "$.owner.nick", "$.owner.vip", "$.owner.age", "$.count", "$.big", "$.huge",
         "$.neg", "$.exp", "$.str", "$.missing", "$.owner.missing", "$.pets[9]", "$['owner']['name']", "$.owner.*", "$.pets.length()",
         "$..price", "owner.name", "$.pets[*]", "$[0]", "", "bad[", "$.pets[?(@.price < 1)].type"]
for p in paths:
    case(I, f"json {p}", "$input.json('" + p + "')")
    case(I, f"path {p}", "$input.path('" + p + "')")
case(I, "path on array body", "$input.path('$[1]') $input.json('$[0]') $input.path('$').size()", '[1,"two",{"three":3}]')
case(I, "path on scalar body", "$input.path('$') $input.json('$')", '42')
case(I, "path on string body", "$input.path('$') $input.json('$')", '"text"')
case(I, "path on invalid body", "[$input.path('$.a')][$input.json('$.a')][$input.body]", '{not json')
case(I, "path on empty body", "[$input.path('$')][$input.json('$')]", '')
case(I, "json escapes", "$input.json('$.s')", '{"s":"quote\\" back\\\\ slash/ tab\\t nl\\n uni\\u00e9 ctl\\u0001 ls\\u2028"}')
case(I, "json numbers", "$input.json('$')", '{"a":1,"b":-0,"c":1.0,"d":1e2,"e":2147483648,"f":0.1,"g":1E-7,"h":123456789.123}')
case(I, "path numbers render", "#set($r = $input.path('$'))$r.a $r.b $r.c $r.d $r.e $r.f $r.g $r.h", '{"a":1,"b":-0,"c":1.0,"d":1e2,"e":2147483648,"f":0.1,"g":1E-7,"h":123456789.123}')
case(I, "path mutation is local", "#set($o = $input.path('$.owner'))#set($d = $o.put('name', 'Bo'))$o.name $input.path('$.owner.name')")
case(I, "path map toString nested", "$input.path('$')", '{"a":{"b":{"c":[1,{"d":2}]}},"e":[{"f":{"g":1}}]}')
case(I, "params map", "$input.params()", "", DEFAULT_PARAMS)
case(I, "params keys", "#foreach($k in $input.params().keySet())$k #end", "", DEFAULT_PARAMS)
case(I, "params header case", "$input.params('content-type')|$input.params('CONTENT-TYPE')|$input.params().header.get('content-type')|", "", DEFAULT_PARAMS)
case(I, "params missing", "[$input.params('nope')]#if($input.params('nope') == '')empty#end", "", DEFAULT_PARAMS)
case(I, "params non-string arg", "[$input.params(1)]", "", DEFAULT_PARAMS)
case(I, "body getter", "$input.getBody()|$input.body.length()", '{"a":1}')
case(I, "foreach over path", "#foreach($p in $input.path('$.pets'))$p.type=$p.price#if($foreach.hasNext);#end#end")
case(I, "foreach over path map", "#foreach($v in $input.path('$.owner'))[$v]#end")
case(I, "json in string", '{"o": "$input.json(\'$.owner.name\')", "n": $input.json(\'$.owner.age\')}')
case(I, "json of array index", "$input.json('$.pets[0].tags')")
case(I, "path list equals", "#if($input.path('$.pets[0].tags') == ['a', 'b'])eq#{else}ne#end")

# ---------------------------------------------------------------------------------------- util
U = "util"
ut = [("escapeJavaScript", ["it's \"x\"/y", "tab\there", "line\nbreak", "back\\slash", "é ü 中", "\u0001\u001f", "plain", "", "<script>"]),
      ("urlEncode", ["a b&c/é", "~!*()'", "100%", "", "a+b", "中文"]),
      ("urlDecode", ["a+b%26c", "%E4%B8%AD", "100%25", "%zz", "%", "plain"]),
      ("base64Encode", ["hello", "", "é", "a longer string that wraps past seventy-six characters for sure yes indeed"]),
      ("base64Decode", ["aGVsbG8=", "", "w6k=", "!!!", "aGVsbG8"])]
for fn, args in ut:
    for a in args:
        case(U, f"{fn} {a!r}", "#set($a = '" + a.replace("'", "''") + "')[$util." + fn + "($a)]", "")
case(U, "util null arg", "[$util.escapeJavaScript($u)][$util.urlEncode($u)]", "")
case(U, "util number arg", "$util.escapeJavaScript(5) $util.urlEncode(1.5)", "")
case(U, "parseJson object", """#set($o = $util.parseJson('{"a":{"b":[1,2,3]},"c":"d"}'))$o.a.b[2] $o.c $o $o.a.b.size()""", "")
case(U, "parseJson array", """#set($o = $util.parseJson('[1,{"x":2}]'))$o[1].x $o $o.size()""", "")
case(U, "parseJson of body", "#set($o = $util.parseJson($input.body))$o.owner.name $o.pets.size()")
case(U, "parseJson invalid", "[$util.parseJson('{bad')]", "")
case(U, "parseJson scalar", "$util.parseJson('12') $util.parseJson('\"s\"')", "")

# ------------------------------------------------------------------------------ context/stage
C = "context"
case(C, "context keySet", "$context.keySet()")
case(C, "context identity map", "$context.identity")
case(C, "context authorizer", "$context.authorizer.principalId $context.authorizer.numkey $context.authorizer.boolkey $context.authorizer.stringkey")
case(C, "context missing", "[$context.nope][$context.nope.deeper][$context.identity.nope]")
case(C, "context get", "$context.get('stage') $context.identity.get('sourceIp')")
case(C, "context epoch arithmetic", "#set($t = $context.requestTimeEpoch / 1000)$t")
case(C, "context override read before set", "[$context.responseOverride.status][$context.responseOverride.header]")
case(C, "context override read after set", "#set($context.responseOverride.status = 404)$context.responseOverride.status $context.responseOverride")
case(C, "context override status string", "#set($context.responseOverride.status = '302')#set($context.responseOverride.header.Location = 'https://x')redirect")
case(C, "context custom context", "$context.stage|$context.custom.deep", "", None, {"stage": "beta", "custom": {"deep": [1, 2]}})
case(C, "context set custom key", "#set($context.custom = 'x')$context.custom|#set($context['k2'] = 2)$context.k2|$context.get('custom')")
case(C, "context set shows in keySet", "#set($context.zz = 1)$context.keySet().contains('zz') $context.size()", "", None, {"a": 1})
case(C, "stage keySet", "$stageVariables.keySet() $stageVariables.size()")
case(C, "stage in url", "$stageVariables.url.replace(' ', '%20')")
case(C, "stage empty", "[$stageVariables.env]", "", None, None, {})
case(C, "stage foreach", "#foreach($v in $stageVariables)$v;#end")

# more whitespace: which spaces a directive takes with it
for t in ["$d #if(true)y#end|", "$d #foreach($i in [1])y#end|", "#if(true)$d #end|", "$d #set($a = 1)|", "$d\t#set($a = 1)|",
          "#set($a=1) #set($b=2)x|", "## c\n  #set($a = 1)x|", "x  #set($a = 1)y|", "$d #macro(mm)#end|", "$d #{set}($a = 1)z",
          "  #set($a = 1)start", "a\n  #set($a = 1)b", "$d\n  #set($a = 1)b", "$d  \n  #set($a = 1)b", "#* c *#  #set($a = 1)x",
          "\\$d  #set($a = 1)x", "$  #set($a = 1)x", "#if(true)  #set($a = 1)x#end", "#foreach($i in [1,2])  #set($a = $i)$a#end"]:
    case(W, f"ws before directive {t!r}", '#set($d = "D")' + t, "")
for t in ["#macro(m $a)[$a]#end#m|#m()|#m(1)|#m(1 2)", "#macro(z)Z#end#z #z()#{z}", "#macro(m $a $b)$a-$b#end#m('x')", "#macro( sp $a )<$a>#end#sp( 1 )"]:
    case(D, f"macro args {t}", t, "")
case(D, "macro defined per template", "#macro(m)local#end#m()", "")
for t in ["#set($t = '#set($v = 2)$v')#evaluate($t) $v", "#set($n = 'x')#set($src = '#set($' + $n + ' = 1)')#evaluate($src)$x",
          "#macro(mm $a)<$a>#end#set($s = '#mm(1)')#evaluate($s)", "#evaluate($u)|", "#set($bad = '#if(')#evaluate($bad)",
          "#set($s = '#define($dd)D#end')#evaluate($s)$dd", "#evaluate('#foreach($i in [1..3])$i#end')"]:
    case(D, f"evaluate {t}", t, "")

# whitespace matrix: every directive form between typical prefixes and suffixes
WS_DIRECTIVES = ["#set($a = 1)", "#if(true)I#end", "#if(false)I#{else}E#end", "#foreach($i in [1, 2])$i#end", "#mac()",
                 "#define($b)B#end", "## comment", "#* c *#", "#evaluate('V')", "#foreach($i in [1])#break#end"]
WS_PREFIX = ["", "  ", "a", "$d ", "\n", "x\n\t"]
WS_SUFFIX = ["", "  ", "\n", " \t\r\n", " y\n", "\n\nz"]
for di, d in enumerate(WS_DIRECTIVES):
    for pi, pre in enumerate(WS_PREFIX):
        for si, suf in enumerate(WS_SUFFIX):
            t = '#macro(mac)M#end#set($d = "D")|' + pre.encode().decode('unicode_escape') + d + suf.encode().decode('unicode_escape') + "|"
            case("whitespace_matrix", f"ws {di}.{pi}.{si} {d}", t, "")

# common template idioms
IDI = "idioms"
for t in ["#if($input.params('nope') == \"\")empty#{else}set#end", "#if(!$input.path('$.missing'))absent#end",
          "#if($input.path('$.owner.vip'))vip#end|#if($input.path('$.owner.nick'))nick#{else}no nick#end",
          "#set($c = $input.path('$.count') + 1)$c", "#set($p = $input.path('$.pets[0].price') * 2)$p",
          "#set($total = 0)#foreach($p in $input.path('$.pets'))#set($total = $total + $p.price)#end$total",
          "$input.json('$.pets[0].price')|$input.json('$.count')|$input.json('$.owner.vip')|$input.json('$.owner.nick')",
          "#foreach($p in $input.path('$.pets'))#set($s = \"$p.type-$p.price\")$s #end",
          "#foreach($a in [1, 2])#foreach($b in [3, 4])$velocityCount/$foreach.count/$foreach.parent.count #end#end",
          "#foreach($a in [1])#end[$foreach.count][$velocityCount]",
          "#set($map = {})$map.put('k', 'v')|$map|#set($l = [])$l.add(1)|$l",
          "#set($a = 1)#set($b = 3)#set($c = false)#if($a == 1 && $b != 2 || !$c)yes#end",
          "#if( $input.path('$.count') >= 3 )three#end", "$!{input.json('$.owner')}",
          "#macro(row $p)<$p.type:$foreach.count>#end#foreach($p in $input.path('$.pets'))#row($p)#end",
          "#foreach($e in $input.path('$.owner').entrySet())$e.key=$e.value;#end",
          "$input.path('$.pets').get(0).get('type')|$input.path('$.pets')[-1].type",
          "$input.path('$.count').intValue()|$input.path('$.count').doubleValue()|$input.path('$.pets[0].price').intValue()",
          "#set($n = $input.params('limit'))#set($i = $n + 1)$i", "#if('b' < 'a')lt#{else}nlt#end",
          "#set($q = $input.params('name'))$util.urlEncode($q)|$util.escapeJavaScript($input.path('$.str'))",
          "#set($m = {\n  'a': 1,\n  'b': [1,\n 2]\n})$m",
          "{#foreach($p in $input.path('$.pets'))\n  \"$p.type\": $p.price#if($foreach.hasNext),#end\n#end}",
          "#set($body = $util.parseJson($input.body))#set($d = $body.put('extra', 1))$body.keySet()",
          "#set($ids = [])#foreach($p in $input.path('$.pets'))#set($d = $ids.add($p.type.toUpperCase()))#end$ids",
          "$input.params().size()|$input.params().header.size()|$input.params().querystring.keySet()",
          "#set($h = $input.params().header)#foreach($k in $h.keySet())#if($k.toLowerCase().startsWith('x-'))$k=$h.get($k);#end#end",
          "#set($s = $input.path('$.str'))$s.length()|$s.indexOf('é')|$s.substring($s.indexOf('\"'))",
          "$context.requestTimeEpoch.class.simpleName|$input.path('$.big').class.simpleName|$input.path('$.huge').class.simpleName|$input.path('$.exp').class.simpleName",
          "#set($x = $input.path('$.big') * 1000)$x|#set($y = $input.path('$.count') * 2147483647)$y"]:
    case(IDI, f"idiom {t[:60]}", t, PETS, DEFAULT_PARAMS)

# ----------------------------------------------------------------------------------- errors
X = "errors"
for t in ["#if(", "#if($x", "#foreach($i in)#end", "#set($x = [1, 2)", "#set($x = {'a' 1})", "#set($x = 'unterminated)",
          "${x", "$x[1", "#macro()#end", "#if(true)#else#else#end", "#elseif(true)", "#if(true)#end#end", "#set($x = 1 +)",
          "#set($x = ==)", "#foreach($i in [1..])#end", "#if($x ==)#end", "#set($l = [1..3)", "$x.y(", "$x.y(1,", "#define()#end"]:
    case(X, f"parse error {t}", "line one\n" + t)
for t in ["#set($l = [1])$l.get(2)", "#set($s = 'abc')$s.substring(4)", "#set($s = 'abc')$s.charAt(-1)", "$util.urlDecode('%zz')",
          "#set($s = 'a')$s.replaceAll('(', 'x')", "#macro(r)#r()#end#r()"]:
    case(X, f"render error {t}", "ok\n" + t)


GAPS = {
    "methods/string split(', ')": "Java arrays print as [Ljava.lang.String;@<identity hash>, which no engine can reproduce; we print the list",
    "methods/string split('')": "Java arrays print as [Ljava.lang.String;@<identity hash>, which no engine can reproduce; we print the list",
    "references/ref $!!x": "nonsense input; Velocity's lexer drops one `!`",
    "errors/parse error #foreach($i in)#end": "Velocity 1.7 accepts a #foreach without a collection and renders nothing; we refuse it at parse time",
    "directives/dir 48 #foreach($i [1])x#end": "Velocity 1.7 accepts a #foreach without `in` and renders nothing; we refuse it at parse time",
    "errors/parse error $x.y(": "Velocity prints `(` at the very end of a template as text after a reference; we report an unterminated call",
    "escapes/esc 22 \\#*": "Velocity's lexer fails on an escaped `#*` at the very end of a template; we print it",
    "whitespace/ws before directive '$  #set($a = 1)x'": "Velocity drops a lone `$` followed by spaces before #set; we print the `$`",
    "input/params non-string arg": "Velocity fails to pick the params(String) overload for an Integer argument; we treat it as a missing name",
}


def all_cases():
    out = []
    for group, cases in GROUPS.items():
        seen = {}
        for c in cases:
            n = c["name"]
            if n in seen:
                seen[n] += 1
                c["name"] = f"{n} #{seen[n]}"
            else:
                seen[n] = 1
            gap = GAPS.get(f"{group}/{c['name']}")
            if gap:
                c["known_gap"] = gap
            out.append((group, c))
    return out


def emit():
    for group, c in all_cases():
        line = {
            "id": f"{group}/{c['name']}",
            "template": c["template"],
            "body": c["body"],
            "params": c.get("params", DEFAULT_PARAMS),
            "context": c.get("context", DEFAULT_CONTEXT),
            "stage": c.get("stage", DEFAULT_STAGE),
        }
        print(json.dumps(line, ensure_ascii=False))


def merge(path):
    results = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                r = json.loads(line)
                results[r.pop("id")] = r
    corpus = os.path.join(HERE, "corpus")
    os.makedirs(corpus, exist_ok=True)
    for name in os.listdir(corpus):
        if name.endswith(".json"):
            os.remove(os.path.join(corpus, name))
    with open(os.path.join(corpus, "_defaults.json"), "w", encoding="utf-8") as f:
        json.dump({"params": DEFAULT_PARAMS, "context": DEFAULT_CONTEXT, "stage": DEFAULT_STAGE}, f, ensure_ascii=False, indent=1)
        f.write("\n")
    by_group = {}
    for group, c in all_cases():
        r = results.get(f"{group}/{c['name']}")
        if r is None:
            sys.exit(f"no oracle result for {group}/{c['name']}")
        c = dict(c)
        c["oracle"] = r
        by_group.setdefault(group, []).append(c)
    total = 0
    for group, cases in by_group.items():
        total += len(cases)
        with open(os.path.join(corpus, f"{group}.json"), "w", encoding="utf-8") as f:
            json.dump(cases, f, ensure_ascii=False, indent=1)
            f.write("\n")
    print(f"recorded {total} cases in {len(by_group)} files", file=sys.stderr)


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "emit":
        emit()
    elif len(sys.argv) >= 3 and sys.argv[1] == "merge":
        merge(sys.argv[2])
    else:
        sys.exit(__doc__)
