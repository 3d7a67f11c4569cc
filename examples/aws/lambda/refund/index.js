// Example tool function for crm.refund: Step Functions passes { tool, arguments, id }.
exports.handler = async (event) => {
  const { order, amount } = event.arguments ?? {};
  return { refunded: true, order, amount };
};
