// Starts GraphiQL on the page that `src/http/playground.rs` serves at the GraphQL endpoint.
// Written for NeoForge; React, ReactDOM and GraphiQL are the UMD bundles loaded before it.
(function () {
  'use strict';

  // The page is served by the endpoint itself, so queries go where the page came from and
  // subscriptions to `<endpoint>/ws` (graphql-transport-ws), whatever the host, port or prefix.
  var endpoint = new URL(location.pathname, location.href);
  var subscriptions = new URL(location.pathname.replace(/\/+$/, '') + '/ws', location.href);
  subscriptions.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';

  // Shareable links: `?query=...&variables=...&operationName=...` fill the editors, and
  // editing keeps the address in step. Headers stay out of the address (they carry tokens).
  var params = new URLSearchParams(location.search);
  function remember(name) {
    return function (value) {
      if (value) {
        params.set(name, value);
      } else {
        params.delete(name);
      }
      var search = params.toString();
      history.replaceState(null, '', location.pathname + (search ? '?' + search : '') + location.hash);
    };
  }

  var props = {
    fetcher: GraphiQL.createFetcher({
      url: endpoint.href,
      subscriptionUrl: subscriptions.href,
    }),
    defaultEditorToolsVisibility: true,
    defaultQuery:
      '# NeoForge API. Ctrl-Enter runs the operation; the Docs button browses the schema.\n' +
      '# Log in with the `login` mutation, then send its accessToken in the Headers tab as\n' +
      '# {"Authorization": "Bearer <token>"}.\n\n' +
      '{\n  viewer {\n    id\n    email\n    role\n  }\n}\n',
    onEditQuery: remember('query'),
    onEditVariables: remember('variables'),
    onEditOperationName: remember('operationName'),
  };
  if (params.has('query')) props.query = params.get('query');
  if (params.has('variables')) props.variables = params.get('variables');
  if (params.has('operationName')) props.operationName = params.get('operationName');

  var root = document.getElementById('graphiql');
  ReactDOM.createRoot(root).render(React.createElement(GraphiQL, props));
})();
